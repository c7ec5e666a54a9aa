"""Replay of the GitHub Actions runner's workflow-command parser, for injection tests.

Why this module exists: a tool that prints untrusted text (file contents, commit
messages, compiler output) into a GitHub Actions log must be able to *prove*
that its output cannot smuggle a workflow command (``::set-output``,
``::add-mask``, ``##[warning]``, ...) past the runner.  Such a proof is only as
good as the model of the runner it is checked against, so this module ports
the runner's C# code line by line instead of guessing from the documentation.

Sources ported (quoted in the comments below and in NOTES.md):

* actions/runner @ 258d6c857db3519913f7deb6004b60172f8043ae
  - src/Runner.Common/ActionCommand.cs      (TryParseV2 ``::name k=v::data``,
    TryParse ``##[name k=v]data``, the unescape tables)
  - src/Runner.Worker/ActionCommandManager.cs (TryProcessCommand:
    registered names, stop-commands / resume token)
  - src/Runner.Worker/Handlers/OutputManager.cs (which lines reach the parser)
  - src/Runner.Sdk/ProcessInvoker.cs         (``StreamReader.ReadLine`` line
    splitting)
  - src/Runner.Common/ExtensionManager.cs    (the registered command set)
* actions/toolkit @ 4b9afa4c890de9d1a84c75bb617ee4d96207823a
  packages/core/src/command.ts (escapeData / escapeProperty)
* dotnet/runtime: CompareInfo.Icu.cs, pal_collation.c, OrdinalCasing.Icu.cs,
  pal_casing.c, String.Manipulation.cs (Split) - because the runner's
  ``StartsWith("::")`` / ``IndexOf("::")`` / ``IndexOf("##[")`` calls are
  **culture-sensitive** (no StringComparison argument), so on .NET 8 they are
  answered by ICU collation, in which zero-width characters such as U+200D are
  *ignorable*: ``":\\u200d:"`` is found as ``"::"``.  See NOTES.md.

In this repository it is the oracle of tests/unit/test_output_guard.py and tests/e2e/test_workflow_commands.py
(tests/unit/test_gh_commands.py tests the port itself): a faithful port, changed only when the runner changes
(re-port it from the sources above, then rerun those tests). actions/runner, actions/toolkit and dotnet/runtime are
MIT-licensed (Copyright (c) GitHub, Inc. and contributors; Copyright (c) .NET Foundation and Contributors); the
lines quoted here and the logic ported from them are used under that license. The Unicode tables are derived from
ICU 72 data (Unicode license).

Everything works on UTF-16 code units (like .NET ``string``), so offsets, and
therefore the substrings the runner cuts, are reproduced exactly, including a
``Substring`` that splits a surrogate pair.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Iterable, Mapping

__all__ = [
    "REGISTERED_COMMANDS",
    "Command",
    "StopTokenRejected",
    "decode_like_runner",
    "escape_data",
    "escape_property",
    "format_command",
    "neutralize",
    "parse_line",
    "parse_log",
    "split_lines",
]


def _parse_ranges(spec: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Turn ``"A-B C ..."`` (hex) into sorted (starts, ends) tuples for bisect look-ups."""
    starts: list[int] = []
    ends: list[int] = []
    for item in spec.split():
        lo, _, hi = item.partition("-")
        starts.append(int(lo, 16))
        ends.append(int(hi or lo, 16))
    return tuple(starts), tuple(ends)


def _in_ranges(cp: int, table: tuple[tuple[int, ...], tuple[int, ...]]) -> bool:
    """Whether code point ``cp`` falls in one of the ranges of ``table``."""
    starts, ends = table
    i = bisect.bisect_right(starts, cp) - 1
    return i >= 0 and cp <= ends[i]


# ---------------------------------------------------------------------------
# Unicode / ICU data.  Generated from ICU 72.1 (Unicode 15.0, root collation,
# as used by .NET 8 for the invariant culture and en-*) with icu_check/netsearch.c
# ("dump" mode), and differential-tested against the real library (see tests).
#   _IGNORABLE_RANGES: every collation element of the code point is 0
#       (UCOL_IGNORABLE), so ICU matching skips it (U+0000-U+0008, U+200B-U+200F,
#       U+2060-U+2064, U+FEFF, variation selectors, tags, many marks, ...).
#   _SECONDARY_FIRST_RANGES: first collation element has primary 0 and a
#       non-zero secondary weight (combining marks); pal_collation.c SimpleAffix
#       answers StartsWith=false when such an element follows the prefix.
#   _ATTACHING_RANGES: Grapheme_Cluster_Break Extend | ZWJ | SpacingMark - they
#       glue to the preceding character (UAX #29 GB9/GB9a), which moves the
#       grapheme boundary usearch requires at the end of a match.
#   _PREPEND_RANGES: Grapheme_Cluster_Break Prepend - glues to the *following*
#       character (GB9b), so no grapheme boundary exists after it.
# Lone surrogates are in none of them: ICU gives them a non-zero collation
# element (FE10...) and Grapheme_Cluster_Break=Control.
# ---------------------------------------------------------------------------

_IGNORABLE_RANGES = _parse_ranges(
    "0-8 E-1F 7F-84 86-9F AD 34F 488-489 591-5AF 5BD 5C4-5C5 600-605 610-61A 61C 640 6D6-6DD 6DF-6E4 "
    "6E7-6E8 6EA-6ED 70F 740 743-744 747-74A 7FA 890-891 898-89D 8CA-8E2 8EA-8EF 8F3 951-952 F18-F19 F35 "
    "F37 F3E-F3F F86-F87 FC6 17B4-17B5 17D3 180A-180F 1A7F 1B6B-1B73 1CD0-1CE8 1CF4 1CF7-1CF9 200B-200F "
    "202A-202E 2060-2064 2066-206F 2D7F A670-A672 A8E0-A8F1 FE00-FE0F FE21 FE23-FE26 FE28 FE2A-FE2D FE2F "
    "FE73 FEFF FFF9-FFFB 102E0 10EFD-10EFF 110BD 110CD 11366-1136C 11370-11374 13430-13440 13447-13455 "
    "16FE4 1BCA0-1BCA3 1CF00-1CF2D 1CF30-1CF46 1D165-1D169 1D16D-1D182 1D185-1D18B 1D1AA-1D1AD "
    "1D242-1D244 1DA00-1DA36 1DA3B-1DA6C 1DA75 1DA84 1DA9B-1DA9F 1DAA1-1DAAF 1E8D0-1E8D6 E0001 "
    "E0020-E007F E0100-E01EF "
)

_SECONDARY_FIRST_RANGES = _parse_ranges(
    "300-34E 350-362 483-487 5B0-5BC 5BF 5C1-5C2 5C7 64B-65F 670 711 730-73F 741-742 745-746 7EB-7F3 7FD "
    "818-819 81C-82D 859-85B 89E-89F 8E3-8E9 8F0-8F2 8F4-903 93C 953-954 981-983 9BC 9FE A01-A03 A3C "
    "A70-A71 A81-A83 ABC AFA-AFF B01-B03 B3C B55 B82 C00-C04 C3C C81-C83 CBC CF3 D00-D03 D81-D83 E47-E4E "
    "EC8-ECE F39 F7E-F7F F82-F83 1036-1038 135D-135F 17C6-17D1 17DD 1939-193B 1A74-1A7C 1AB0-1ABE "
    "1AC1-1ACB 1B00-1B04 1B34 1B80-1B82 1BE6 1C37 1CED 1CF2-1CF3 1DC0-1DC9 1DCB-1DD1 1DF5-1DFF 20D0-20F0 "
    "2CEF-2CF1 302A-302F 3099-309A A66F A67C-A67D A6F0-A6F1 A80B A880-A881 A8C5 A92B-A92D A980-A983 A9B3 "
    "AABF AAC1 ABEC FB1E FC5E-FC63 FCF2-FCF4 FE20 FE22 FE27 FE29 FE2E FE70-FE72 FE74 FE76-FE7F FF9E-FF9F "
    "101FD 10A0D-10A0F 10A38-10A3A 10AE5-10AE6 10D24-10D27 10EAB-10EAC 10F46-10F50 10F82-10F85 "
    "11000-11002 11080-11082 110BA 11100-11102 11173 11180-11182 111C9-111CC 111CF 11234 11236-11237 "
    "1123E 112DF 112E9 11300-11303 1133B-1133C 11443-11446 1145E 114BF-114C1 114C3 115BC-115BE 115C0 "
    "1163D-1163E 11640 116AB-116AC 116B7 11837-11838 1183A 1193B-1193C 11943 119DE-119DF 11A33 "
    "11A35-11A39 11A96-11A98 11C3C-11C3E 11CB5-11CB6 11D40-11D43 11D95-11D96 11F00-11F01 11F03 "
    "16AF0-16AF4 16B30-16B36 16FF0-16FF1 1BC9D-1BC9E 1E130-1E136 1E2AE 1E2EC-1E2EF 1E4EC-1E4EF "
    "1E944-1E94A "
)

_ATTACHING_RANGES = _parse_ranges(
    "300-36F 483-489 591-5BD 5BF 5C1-5C2 5C4-5C5 5C7 610-61A 64B-65F 670 6D6-6DC 6DF-6E4 6E7-6E8 6EA-6ED "
    "711 730-74A 7A6-7B0 7EB-7F3 7FD 816-819 81B-823 825-827 829-82D 859-85B 898-89F 8CA-8E1 8E3-903 "
    "93A-93C 93E-94F 951-957 962-963 981-983 9BC 9BE-9C4 9C7-9C8 9CB-9CD 9D7 9E2-9E3 9FE A01-A03 A3C "
    "A3E-A42 A47-A48 A4B-A4D A51 A70-A71 A75 A81-A83 ABC ABE-AC5 AC7-AC9 ACB-ACD AE2-AE3 AFA-AFF B01-B03 "
    "B3C B3E-B44 B47-B48 B4B-B4D B55-B57 B62-B63 B82 BBE-BC2 BC6-BC8 BCA-BCD BD7 C00-C04 C3C C3E-C44 "
    "C46-C48 C4A-C4D C55-C56 C62-C63 C81-C83 CBC CBE-CC4 CC6-CC8 CCA-CCD CD5-CD6 CE2-CE3 CF3 D00-D03 "
    "D3B-D3C D3E-D44 D46-D48 D4A-D4D D57 D62-D63 D81-D83 DCA DCF-DD4 DD6 DD8-DDF DF2-DF3 E31 E33-E3A "
    "E47-E4E EB1 EB3-EBC EC8-ECE F18-F19 F35 F37 F39 F3E-F3F F71-F84 F86-F87 F8D-F97 F99-FBC FC6 "
    "102D-1037 1039-103E 1056-1059 105E-1060 1071-1074 1082 1084-1086 108D 109D 135D-135F 1712-1715 "
    "1732-1734 1752-1753 1772-1773 17B4-17D3 17DD 180B-180D 180F 1885-1886 18A9 1920-192B 1930-193B "
    "1A17-1A1B 1A55-1A5E 1A60 1A62 1A65-1A7C 1A7F 1AB0-1ACE 1B00-1B04 1B34-1B44 1B6B-1B73 1B80-1B82 "
    "1BA1-1BAD 1BE6-1BF3 1C24-1C37 1CD0-1CD2 1CD4-1CE8 1CED 1CF4 1CF7-1CF9 1DC0-1DFF 200C-200D 20D0-20F0 "
    "2CEF-2CF1 2D7F 2DE0-2DFF 302A-302F 3099-309A A66F-A672 A674-A67D A69E-A69F A6F0-A6F1 A802 A806 A80B "
    "A823-A827 A82C A880-A881 A8B4-A8C5 A8E0-A8F1 A8FF A926-A92D A947-A953 A980-A983 A9B3-A9C0 A9E5 "
    "AA29-AA36 AA43 AA4C-AA4D AA7C AAB0 AAB2-AAB4 AAB7-AAB8 AABE-AABF AAC1 AAEB-AAEF AAF5-AAF6 ABE3-ABEA "
    "ABEC-ABED FB1E FE00-FE0F FE20-FE2F FF9E-FF9F 101FD 102E0 10376-1037A 10A01-10A03 10A05-10A06 "
    "10A0C-10A0F 10A38-10A3A 10A3F 10AE5-10AE6 10D24-10D27 10EAB-10EAC 10EFD-10EFF 10F46-10F50 "
    "10F82-10F85 11000-11002 11038-11046 11070 11073-11074 1107F-11082 110B0-110BA 110C2 11100-11102 "
    "11127-11134 11145-11146 11173 11180-11182 111B3-111C0 111C9-111CC 111CE-111CF 1122C-11237 1123E "
    "11241 112DF-112EA 11300-11303 1133B-1133C 1133E-11344 11347-11348 1134B-1134D 11357 11362-11363 "
    "11366-1136C 11370-11374 11435-11446 1145E 114B0-114C3 115AF-115B5 115B8-115C0 115DC-115DD "
    "11630-11640 116AB-116B7 1171D-1171F 11722-1172B 1182C-1183A 11930-11935 11937-11938 1193B-1193E "
    "11940 11942-11943 119D1-119D7 119DA-119E0 119E4 11A01-11A0A 11A33-11A39 11A3B-11A3E 11A47 "
    "11A51-11A5B 11A8A-11A99 11C2F-11C36 11C38-11C3F 11C92-11CA7 11CA9-11CB6 11D31-11D36 11D3A "
    "11D3C-11D3D 11D3F-11D45 11D47 11D8A-11D8E 11D90-11D91 11D93-11D97 11EF3-11EF6 11F00-11F01 11F03 "
    "11F34-11F3A 11F3E-11F42 13440 13447-13455 16AF0-16AF4 16B30-16B36 16F4F 16F51-16F87 16F8F-16F92 "
    "16FE4 16FF0-16FF1 1BC9D-1BC9E 1CF00-1CF2D 1CF30-1CF46 1D165-1D169 1D16D-1D172 1D17B-1D182 "
    "1D185-1D18B 1D1AA-1D1AD 1D242-1D244 1DA00-1DA36 1DA3B-1DA6C 1DA75 1DA84 1DA9B-1DA9F 1DAA1-1DAAF "
    "1E000-1E006 1E008-1E018 1E01B-1E021 1E023-1E024 1E026-1E02A 1E08F 1E130-1E136 1E2AE 1E2EC-1E2EF "
    "1E4EC-1E4EF 1E8D0-1E8D6 1E944-1E94A 1F3FB-1F3FF E0020-E007F E0100-E01EF "
)

_PREPEND_RANGES = _parse_ranges(
    "600-605 6DD 70F 890-891 8E2 D4E 110BD 110CD 111C2-111C3 1193F 11941 11A3A 11A84-11A89 11D46 11F02 "
)


# ---------------------------------------------------------------------------
# UTF-16 helpers.  .NET strings are UTF-16; all offsets below are code units.
# ---------------------------------------------------------------------------


def _to_units(text: str) -> str:
    """Re-express ``text`` with one Python character per UTF-16 code unit (astral -> surrogate pair)."""
    raw = text.encode("utf-16-le", "surrogatepass")
    return "".join(chr(raw[i] | (raw[i + 1] << 8)) for i in range(0, len(raw), 2))


def _from_units(units: str) -> str:
    """Inverse of :func:`_to_units`: re-join valid surrogate pairs, keep lone surrogates as they are."""
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _code_points(units: str) -> list[tuple[int, int, int]]:
    """(start, end, code point) for each code point of a UTF-16 unit string; lone surrogates stand alone."""
    out: list[tuple[int, int, int]] = []
    i = 0
    n = len(units)
    while i < n:
        c = ord(units[i])
        if 0xD800 <= c <= 0xDBFF and i + 1 < n and 0xDC00 <= ord(units[i + 1]) <= 0xDFFF:
            out.append((i, i + 2, 0x10000 + ((c - 0xD800) << 10) + (ord(units[i + 1]) - 0xDC00)))
            i += 2
        else:
            out.append((i, i + 1, c))
            i += 1
    return out


# .NET char.IsWhiteSpace (documented member list: Zs, Zl, Zp, U+0009-U+000D, U+0085).
# Used by string.TrimStart() / string.Trim() in ActionCommand.cs.  Note it differs from
# Python's str.isspace(), which also accepts U+001C-U+001F.
_DOTNET_WHITESPACE = frozenset(
    chr(c)
    for c in (
        0x09,
        0x0A,
        0x0B,
        0x0C,
        0x0D,
        0x20,
        0x85,
        0xA0,
        0x1680,
        *range(0x2000, 0x200B),
        0x2028,
        0x2029,
        0x202F,
        0x205F,
        0x3000,
    )
)


def _trim_start(units: str) -> str:
    """``string.TrimStart()``."""
    i = 0
    while i < len(units) and units[i] in _DOTNET_WHITESPACE:
        i += 1
    return units[i:]


def _trim(units: str) -> str:
    """``string.Trim()``."""
    start = 0
    end = len(units)
    while start < end and units[start] in _DOTNET_WHITESPACE:
        start += 1
    while end > start and units[end - 1] in _DOTNET_WHITESPACE:
        end -= 1
    return units[start:end]


def _dotnet_split(units: str, sep: str, count: int = 2**31 - 1) -> list[str]:
    """``string.Split(new[] { sep }, count, StringSplitOptions.RemoveEmptyEntries)``.

    Ported from dotnet/runtime String.Manipulation.cs (CreateSplitArrayOfThisAsSoleValue /
    SplitWithPostProcessing).  The subtle part: once ``count - 1`` entries are taken, *empty*
    entries are skipped before the remainder is taken, so ``"k==v".Split('=', 2, RemoveEmpty)``
    is ``["k", "v"]`` (not ``["k", "=v"]``) while ``"k=a=b"`` gives ``["k", "a=b"]``.
    """
    seps = [i for i, ch in enumerate(units) if ch == sep]
    if count <= 1 or len(units) == 0 or not seps:
        # CreateSplitArrayOfThisAsSoleValue
        return [units] if count != 0 and units else []
    out: list[str] = []
    curr = 0
    i = 0
    while i < len(seps):
        entry = units[curr : seps[i]]
        if entry:
            out.append(entry)
        curr = seps[i] + 1
        if len(out) == count - 1:
            i += 1
            while i < len(seps):
                if units[curr : seps[i]]:
                    break  # "there's useful data here"
                curr = seps[i] + 1
                i += 1
            break
        i += 1
    last = units[curr:]
    if last:
        out.append(last)
    return out


# --- OrdinalIgnoreCase (HashSet/Dictionary comparer used by ActionCommandManager) --------------
# dotnet/runtime OrdinalCasing.Icu.cs: per UTF-16 unit simple upper-casing (u_toupper), except
# pal_casing.c GlobalizationNative_InitOrdinalCasingPage: "pTarget[0x31] = (UChar)0x0131; //
# Turkish lowercase i" and "pTarget[0x7F] = (UChar)0x017F; // LATIN SMALL LETTER LONG S", and
# surrogate pairs only for the ranges listed in ToUpperSurrogate.  Python's str.upper() is the
# *full* mapping; the only BMP code points where a single-character simple mapping differs from it
# (checked against ICU 72 u_toupper) are the Greek iota-subscript letters handled here.
_SIMPLE_UPPER_OVERRIDES: dict[int, int] = {
    0x0131: 0x0131,
    0x017F: 0x017F,
    0x1FB3: 0x1FBC,
    0x1FC3: 0x1FCC,
    0x1FF3: 0x1FFC,
}
for _base in (0x1F80, 0x1F90, 0x1FA0):
    for _k in range(8):
        _SIMPLE_UPPER_OVERRIDES[_base + _k] = _base + 8 + _k

# (high surrogate, first low, last low, delta to add to the low surrogate) from ToUpperSurrogate
_SURROGATE_UPPER = (
    (0xD801, 0xDC28, 0xDC4F, -0x28),  # DESERET
    (0xD801, 0xDCD8, 0xDCFB, -0x28),  # OSAGE
    (0xD803, 0xDCC0, 0xDCF2, -0x40),  # OLD HUNGARIAN
    (0xD806, 0xDCC0, 0xDCDF, -0x20),  # WARANG CITI
    (0xD81B, 0xDE60, 0xDE7F, -0x20),  # MEDEFAIDRIN
    (0xD83A, 0xDD22, 0xDD43, -0x22),  # ADLAM
)


def _upper_unit(c: int) -> int:
    """OrdinalCasing.ToUpper for one BMP code unit."""
    if c < 0x80:
        return c - 0x20 if 0x61 <= c <= 0x7A else c
    if c <= 0xFF:  # s_basicLatin
        if c == 0xB5:
            return 0x039C
        if c == 0xFF:
            return 0x0178
        return c - 0x20 if 0xE0 <= c <= 0xFE and c != 0xF7 else c
    if 0xD800 <= c <= 0xDFFF:
        return c
    if c in _SIMPLE_UPPER_OVERRIDES:
        return _SIMPLE_UPPER_OVERRIDES[c]
    upper = chr(c).upper()
    return ord(upper) if len(upper) == 1 else c


def _ordinal_upper(units: str) -> str:
    """OrdinalCasing.ToUpperOrdinal: the key under which an OrdinalIgnoreCase set/dict stores ``units``."""
    out: list[str] = []
    i = 0
    while i < len(units):
        c = ord(units[i])
        if 0xD800 <= c <= 0xDBFF and i + 1 < len(units) and 0xDC00 <= ord(units[i + 1]) <= 0xDFFF:
            low = ord(units[i + 1])
            for high, first, last, delta in _SURROGATE_UPPER:
                if c == high and first <= low <= last:
                    low += delta
                    break
            out.append(chr(c) + chr(low))
            i += 2
            continue
        out.append(chr(_upper_unit(c)))
        i += 1
    return "".join(out)


# ---------------------------------------------------------------------------
# Culture-sensitive string search, as .NET 8 + ICU answers it.
# ---------------------------------------------------------------------------


def _is_ignorable(cp: int) -> bool:
    """Every collation element of ``cp`` is 0: ICU matching skips it entirely."""
    return _in_ranges(cp, _IGNORABLE_RANGES)


def _culture_starts_with(units: str, prefix: str) -> bool:
    """``units.StartsWith(prefix)`` (CurrentCulture) for an ASCII, non-ignorable ``prefix``.

    Port of pal_collation.c ``SimpleAffix_Iterators`` (forward): collation elements of the text
    are compared with the prefix's, text elements that are ``UCOL_IGNORABLE`` are skipped, and
    once the prefix is exhausted the *next* text element decides::

        else if (sourceElement == UCOL_IGNORABLE)
            goto ReturnTrue; // ... an example: "o\\u0000".StartsWith("o")
        else if (forwardSearch && ((sourceElement & UCOL_PRIMARYORDERMASK) == 0) &&
                 (sourceElement & UCOL_SECONDARYORDERMASK) != 0)
            return false; // ... a combining character, an example: "o\\u0308".StartsWith("o")

    The managed ASCII fast path in CompareInfo.Icu.cs (StartsWithOrdinalHelper) only answers by
    itself when the result is the same, so it needs no separate model.  No code point other than
    the prefix characters themselves has their collation element (verified over all code points).
    """
    cps = _code_points(units)
    want = [ord(c) for c in prefix]
    k = 0
    i = 0
    while k < len(want):
        if i >= len(cps):
            return False
        cp = cps[i][2]
        i += 1
        if _is_ignorable(cp):
            continue
        if cp != want[k]:
            return False
        k += 1
    if i >= len(cps):
        return True
    nxt = cps[i][2]
    return _is_ignorable(nxt) or not _in_ranges(nxt, _SECONDARY_FIRST_RANGES)


def _culture_index_of(units: str, value: str, start: int = 0) -> int:
    """``units.IndexOf(value, start)`` (CurrentCulture) for an ASCII, non-ignorable ``value``.

    .NET searches ``units[start:]`` with ICU ``usearch_first`` (pal_collation.c
    GlobalizationNative_IndexOf) using a grapheme break iterator (CreateCustomizedBreakIterator).
    ICU's usearch accepts a collation-element match only if

    * the match starts on a grapheme boundary (the code point before it is not GCB=Prepend), and
    * the grapheme boundary at/after the last matched character is reached before the next
      non-ignorable collation element, i.e. any Extend/ZWJ/SpacingMark run glued to the last
      character consists only of ignorable code points.

    Ignorable code points *inside* the match are skipped, so ``":\\u200d:"`` matches ``"::"``.
    The returned index is that of the first matched character (leading ignorables excluded).
    """
    src = units[start:]
    cps = _code_points(src)
    want = [ord(c) for c in value]
    solid = [i for i, (_, _, cp) in enumerate(cps) if not _is_ignorable(cp)]
    for j in range(len(solid) - len(want) + 1):
        if any(cps[solid[j + k]][2] != want[k] for k in range(len(want))):
            continue
        first = solid[j]
        if first > 0 and _in_ranges(cps[first - 1][2], _PREPEND_RANGES):
            continue  # match start is not a grapheme boundary
        t = solid[j + len(want) - 1] + 1
        glued_solid = False
        while t < len(cps) and _in_ranges(cps[t][2], _ATTACHING_RANGES):
            if not _is_ignorable(cps[t][2]):
                glued_solid = True
                break
            t += 1
        if glued_solid:
            continue  # the cluster of the last character extends past the next collation element
        return start + cps[first][0]
    return -1


class _Matcher:
    """The three string primitives the runner uses, in culture (ICU) or ordinal (invariant) flavour."""

    def __init__(self, culture_sensitive: bool) -> None:
        """Pick ICU (culture) or ordinal (invariant globalization) semantics."""
        self.culture_sensitive = culture_sensitive

    def starts_with(self, units: str, prefix: str) -> bool:
        """``string.StartsWith(string)``."""
        if self.culture_sensitive:
            return _culture_starts_with(units, prefix)
        return units.startswith(prefix)

    def index_of(self, units: str, value: str, start: int = 0) -> int:
        """``string.IndexOf(string[, int])``."""
        if start > len(units):
            return -1  # ArgumentOutOfRangeException in .NET; callers treat it as "no command"
        if self.culture_sensitive:
            return _culture_index_of(units, value, start)
        return units.find(value, start)


# ---------------------------------------------------------------------------
# ActionCommand.cs
# ---------------------------------------------------------------------------

# ActionCommand.cs: _escapeMappings (legacy ##[ form, properties and data), _escapeDataMappings,
# _escapePropertyMappings.  Unescape walks each table in order, replacing Replacement -> Token:
#     foreach (EscapeMapping mapping in _escapeMappings)
#         unescaped = unescaped.Replace(mapping.Replacement, mapping.Token);
_LEGACY_MAPPINGS = ((";", "%3B"), ("\r", "%0D"), ("\n", "%0A"), ("]", "%5D"), ("%", "%25"))
_DATA_MAPPINGS = (("\r", "%0D"), ("\n", "%0A"), ("%", "%25"))
_PROPERTY_MAPPINGS = (("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25"))


def _unescape(units: str, mappings: tuple[tuple[str, str], ...]) -> str:
    """ActionCommand.Unescape / UnescapeData / UnescapeProperty (ordinal ``string.Replace`` in table order)."""
    for token, replacement in mappings:
        units = units.replace(replacement, token)
    return units


def _set_property(props: dict[str, str], keys: dict[str, str], key: str, value: str) -> None:
    """``command.Properties[key] = value`` on a ``Dictionary(StringComparer.OrdinalIgnoreCase)``.

    An existing key that differs only in case keeps its original spelling and gets the new value.
    """
    folded = _ordinal_upper(key)
    if folded in keys:
        props[keys[folded]] = value
    else:
        keys[folded] = key
        props[key] = value


@dataclasses.dataclass(frozen=True)
class Command:
    """One workflow command the runner would act on.

    ``name`` is spelled as in the log (the runner matches names case-insensitively);
    ``properties`` and ``data`` are unescaped exactly as the runner unescapes them;
    ``form`` is ``"::"`` (TryParseV2) or ``"##["`` (legacy TryParse); ``line`` is 1-based.
    """

    name: str
    properties: dict[str, str]
    data: str
    form: str = "::"
    line: int = 0


def _try_parse_v2(units: str, registered: Mapping[str, str], m: _Matcher) -> Command | None:
    """ActionCommand.TryParseV2 (``::name k=v,k=v::data``)."""
    if not units:
        return None
    # "// the message needs to start with the keyword after trim leading space."
    # message = message.TrimStart(); if (!message.StartsWith(_commandKey)) return false;
    message = _trim_start(units)
    if not m.starts_with(message, "::"):
        return None
    # int endIndex = message.IndexOf(_commandKey, _commandKey.Length);
    end_index = m.index_of(message, "::", 2)
    if end_index < 0:
        return None
    # string cmdInfo = message.Substring(cmdIndex, endIndex - cmdIndex);   (cmdIndex = 2)
    cmd_info = message[2:end_index]
    space_index = cmd_info.find(" ")
    command_name = cmd_info if space_index < 0 else cmd_info[:space_index]
    # if (registeredCommands.Contains(commandName)) command = new ActionCommand(commandName);
    # (the constructor's ArgUtil.NotNullOrEmpty throws for "", caught -> false)
    if not command_name or _ordinal_upper(command_name) not in registered:
        return None
    props: dict[str, str] = {}
    keys: dict[str, str] = {}
    if space_index > 0:
        # string propertiesStr = cmdInfo.Substring(spaceIndex + 1).Trim();
        # string[] splitProperties = propertiesStr.Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries);
        for prop in _dotnet_split(_trim(cmd_info[space_index + 1 :]), ","):
            # string[] pair = propertyStr.Split(new[] { '=' }, count: 2, options: RemoveEmptyEntries);
            pair = _dotnet_split(prop, "=", 2)
            if len(pair) == 2:
                _set_property(props, keys, _from_units(pair[0]), _from_units(_unescape(pair[1], _PROPERTY_MAPPINGS)))
    # command.Data = UnescapeData(message.Substring(endIndex + _commandKey.Length));
    data = _unescape(message[end_index + 2 :], _DATA_MAPPINGS)
    return Command(_from_units(command_name), props, _from_units(data), "::")


def _try_parse_legacy(units: str, registered: Mapping[str, str], m: _Matcher) -> Command | None:
    """ActionCommand.TryParse (``##[name k=v;k=v]data``), searched anywhere in the line, untrimmed."""
    if not units:
        return None
    # int prefixIndex = message.IndexOf(Prefix);            (culture-sensitive, first match only)
    prefix_index = m.index_of(units, "##[")
    if prefix_index < 0:
        return None
    # int rbIndex = message.IndexOf(']', prefixIndex);     (char overload: ordinal)
    rb_index = units.find("]", prefix_index)
    if rb_index < 0:
        return None
    cmd_index = prefix_index + 3
    if rb_index < cmd_index:
        return None  # Substring would throw ArgumentOutOfRangeException -> catch -> false
    cmd_info = units[cmd_index:rb_index]
    space_index = cmd_info.find(" ")
    command_name = cmd_info if space_index < 0 else cmd_info[:space_index]
    if not command_name or _ordinal_upper(command_name) not in registered:
        return None
    props: dict[str, str] = {}
    keys: dict[str, str] = {}
    if space_index > 0:
        # string propertiesStr = cmdInfo.Substring(spaceIndex + 1);          (no Trim here)
        # string[] splitProperties = propertiesStr.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries);
        for prop in _dotnet_split(cmd_info[space_index + 1 :], ";"):
            pair = _dotnet_split(prop, "=", 2)
            if len(pair) == 2:
                _set_property(props, keys, _from_units(pair[0]), _from_units(_unescape(pair[1], _LEGACY_MAPPINGS)))
    # command.Data = Unescape(message.Substring(rbIndex + 1));
    data = _unescape(units[rb_index + 1 :], _LEGACY_MAPPINGS)
    return Command(_from_units(command_name), props, _from_units(data), "##[")


# ---------------------------------------------------------------------------
# ActionCommandManager.cs / OutputManager.cs
# ---------------------------------------------------------------------------

# ExtensionManager.cs registers these IActionCommandExtension types; ActionCommandManager.Initialize:
#     _registeredCommands.Add(_stopCommand);
#     ... _commandExtensions[commandExt.Command] = commandExt;
#         if (commandExt.Command != "internal-set-repo-path") _registeredCommands.Add(commandExt.Command);
# The *same* set is passed to TryParseV2 and TryParse: there is no separate allow-list for the
# legacy ##[ form.
REGISTERED_COMMANDS: tuple[str, ...] = (
    "stop-commands",
    "set-env",
    "set-output",
    "save-state",
    "add-path",
    "add-mask",
    "add-matcher",
    "remove-matcher",
    "warning",
    "error",
    "notice",
    "debug",
    "group",
    "endgroup",
    "echo",
)
_EXTENSIONS: tuple[str, ...] = (*REGISTERED_COMMANDS[1:], "internal-set-repo-path")
_STOP_COMMAND = "stop-commands"


class StopTokenRejected(Exception):
    """``::stop-commands::`` with a token ValidateStopToken refuses; the runner throws and the step fails.

    ``commands`` holds what was executed before; ``line`` is the 1-based offending line.
    """

    def __init__(self, token: str, line: int, commands: list[Command]) -> None:
        """Keep the token, the line and the commands executed so far for the test's assertion message."""
        super().__init__(f"line {line}: stop-commands token {token!r} is rejected by the runner")
        self.token = token
        self.line = line
        self.commands = commands


class _Runner:
    """State of one ActionCommandManager (shared by a step's stdout and stderr)."""

    def __init__(
        self,
        *,
        culture_sensitive: bool,
        enhanced_annotations: bool,
        plugin_internal_commands: bool,
        allow_unsecure_stop_tokens: bool,
    ) -> None:
        """Build the registered set as ActionCommandManager.Initialize does."""
        self.matcher = _Matcher(culture_sensitive)
        self.enhanced_annotations = enhanced_annotations
        self.allow_unsecure_stop_tokens = allow_unsecure_stop_tokens
        names = list(REGISTERED_COMMANDS) + (["internal-set-repo-path"] if plugin_internal_commands else [])
        self.registered: dict[str, str] = {_ordinal_upper(n): n for n in names}
        self.extensions = frozenset(_ordinal_upper(n) for n in _EXTENSIONS)
        self.stopped = False
        self.stop_token: str | None = None  # UTF-16 units

    def parse(self, units: str) -> Command | None:
        """OutputManager.OnDataReceived's gate, then TryParseV2 || TryParse."""
        m = self.matcher
        # if (!String.IsNullOrEmpty(line) &&
        #     (line.IndexOf(ActionCommand.Prefix) >= 0 || line.IndexOf(ActionCommand._commandKey) >= 0))
        if not units or (m.index_of(units, "##[") < 0 and m.index_of(units, "::") < 0):
            return None
        return _try_parse_v2(units, self.registered, m) or _try_parse_legacy(units, self.registered, m)

    def process(self, units: str, line_no: int, done: list[Command]) -> Command | None:
        """ActionCommandManager.TryProcessCommand; returns the command if the runner acts on it."""
        cmd = self.parse(units)
        if cmd is None:
            return None
        cmd = dataclasses.replace(cmd, line=line_no)
        # if (!EnhancedAnnotationsEnabled(context) && actionCommand.Command == "notice") return false;
        if not self.enhanced_annotations and cmd.name == "notice":  # ordinal, case-sensitive
            return None
        name_key = _ordinal_upper(_to_units(cmd.name))
        if self.stopped:
            # if (!string.IsNullOrEmpty(_stopToken) &&
            #     string.Equals(actionCommand.Command, _stopToken, StringComparison.OrdinalIgnoreCase))
            if self.stop_token and name_key == _ordinal_upper(self.stop_token):
                self.registered.pop(_ordinal_upper(self.stop_token), None)  # _registeredCommands.Remove(_stopToken)
                self.stopped = False
                self.stop_token = None
                return cmd
            return None  # "Process commands has been stopped and waiting for '##[{_stopToken}]' to resume."
        if name_key == _ordinal_upper(_STOP_COMMAND):
            token = _to_units(cmd.data)
            # ValidateStopToken: isTokenInvalid = _registeredCommands.Contains(stopToken)
            #     || string.IsNullOrEmpty(stopToken) || string.Equals(stopToken, "pause-logging", OrdinalIgnoreCase);
            invalid = (
                not token
                or _ordinal_upper(token) in self.registered
                or _ordinal_upper(token) == _ordinal_upper("pause-logging")
            )
            if invalid and not self.allow_unsecure_stop_tokens:
                raise StopTokenRejected(cmd.data, line_no, done)
            self.stop_token = token
            self.stopped = True
            self.registered.setdefault(_ordinal_upper(token), token)  # _registeredCommands.Add(_stopToken)
            return cmd
        if name_key in self.extensions:
            return cmd
        return None  # "Can't find command extension for ##[...]" - consumed, but nothing is executed


def split_lines(text: str) -> list[str]:
    """Split like ``StreamReader.ReadLine`` (ProcessInvoker.StartReadStream): at ``\\r\\n``, ``\\r`` or ``\\n``.

    Only those three terminators count (not U+0085/U+2028/U+2029/\\v/\\f as in ``str.splitlines``),
    and a trailing terminator does not produce an extra empty line.
    """
    lines: list[str] = []
    i = 0
    start = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in "\r\n":
            lines.append(text[start:i])
            i += 2 if ch == "\r" and i + 1 < n and text[i + 1] == "\n" else 1
            start = i
        else:
            i += 1
    if start < n:
        lines.append(text[start:])
    return lines


def decode_like_runner(raw: bytes) -> str:
    """Decode captured stdout/stderr bytes the way the runner's StreamReader does.

    .NET's Process opens the pipe with UTF-8 and byte-order-mark detection; invalid UTF-8 becomes
    U+FFFD per maximal subpart (same policy as Python's ``errors="replace"``).
    """
    boms = (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    )
    for bom, codec in boms:
        if raw.startswith(bom):
            return raw[len(bom) :].decode(codec, errors="replace")
    return raw.decode("utf-8", errors="replace")


def parse_line(line: str, *, culture_sensitive: bool = True, plugin_internal_commands: bool = False) -> Command | None:
    """Parse one line in a fresh runner state (no stop-commands history); ``None`` if it is not a command."""
    runner = _Runner(
        culture_sensitive=culture_sensitive,
        enhanced_annotations=True,
        plugin_internal_commands=plugin_internal_commands,
        allow_unsecure_stop_tokens=True,
    )
    return runner.parse(_to_units(line))


def parse_log(
    text: str,
    *,
    culture_sensitive: bool = True,
    enhanced_annotations: bool = True,
    plugin_internal_commands: bool = False,
    allow_unsecure_stop_tokens: bool = False,
) -> list[Command]:
    """Every workflow command the runner would act on in ``text``, in order.

    ``culture_sensitive=True`` models the runner as shipped (.NET 8 with ICU; GitHub-hosted runners
    run with LANG=C.UTF-8, i.e. the invariant culture); ``False`` models
    DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1, where the same calls are ordinal.  Both flavours
    honour stop-commands: commands between ``::stop-commands::TOKEN`` and the resume line
    ``::TOKEN::`` are not executed; the stop command and the resume line are returned.
    ``enhanced_annotations`` is the server variable DistributedTask.EnhancedAnnotations (``notice``),
    ``plugin_internal_commands`` enables ``internal-set-repo-path`` (runner plugins only),
    ``allow_unsecure_stop_tokens`` is ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS.  An invalid stop
    token raises :class:`StopTokenRejected`, because the runner throws there and fails the step.
    """
    runner = _Runner(
        culture_sensitive=culture_sensitive,
        enhanced_annotations=enhanced_annotations,
        plugin_internal_commands=plugin_internal_commands,
        allow_unsecure_stop_tokens=allow_unsecure_stop_tokens,
    )
    done: list[Command] = []
    for line_no, line in enumerate(split_lines(text), start=1):
        cmd = runner.process(_to_units(line), line_no, done)
        if cmd is not None:
            done.append(cmd)
    return done


# ---------------------------------------------------------------------------
# Emitting safely
# ---------------------------------------------------------------------------


def escape_data(s: str) -> str:
    """@actions/core command.ts ``escapeData``: ``%`` -> %25, CR -> %0D, LF -> %0A (in that order).

    The runner's UnescapeData reverses exactly these three, so any string round-trips as data.
    """
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    """@actions/core command.ts ``escapeProperty``: ``%`` CR LF ``:`` ``,`` -> %25 %0D %0A %3A %2C.

    Reversed by the runner's UnescapeProperty.  Not escaped (and not escapable: the runner has no
    mapping for them): ``=`` (a value starting with ``=`` loses it to Split's RemoveEmptyEntries)
    and surrounding white space of the whole property list (the runner ``Trim()``s it).
    """
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(":", "%3A").replace(",", "%2C")


_ZWJ = "\u200d"
_ZWSP = "\u200b"


def neutralize(text: str) -> str:
    """Make untrusted text inert for the runner: U+200D between ``:`` ``:`` and between ``#`` ``[``.

    Why this is enough (proved in NOTES.md and checked by the tests, for ICU and ordinal runners):
    TryParseV2 cuts the name at a fixed offset 2 after the trimmed start, so a command needs the two
    code units ``::`` literally there; TryParse cuts at prefix index + 3, so it needs ``##[``
    literally at the first (culture) match.  ICU still *finds* ``":\\u200d:"`` as ``"::"``, but the
    name then starts with ``:`` or ``[``, which no registered command does.  Apply it to the whole
    final line (two fragments can meet at ``:`` + ``:``); it is idempotent.
    """
    out: list[str] = []
    prev = ""
    for ch in text:
        if (prev == ":" and ch == ":") or (prev == "#" and ch == "["):
            out.append(_ZWJ)
        out.append(ch)
        prev = ch
    return "".join(out)


def format_command(command: str, properties: Mapping[str, str] | Iterable[tuple[str, str]], message: str) -> str:
    """Build ``::command k=v,...::message`` like @actions/core ``issueCommand``, plus two ICU guards.

    The guards make sure the runner takes *our* ``::`` as the separator.  ICU rejects a match of
    ``::`` that starts right after a GCB=Prepend character (e.g. U+0600 at the end of a property
    value) or whose last ``:`` is glued to a following non-ignorable mark (e.g. a message starting
    with U+0308); the runner would then use a later ``::``-like sequence from the message (ICU also
    matches ``":\\u200d:"``), letting the message forge properties.  A U+200B (ignorable,
    GCB=Control, hence a grapheme boundary) is inserted on the affected side only.
    """
    if not command or any(ch in command for ch in " ,=:\r\n%"):
        raise ValueError(f"invalid command name {command!r}")
    items = list(properties.items()) if isinstance(properties, Mapping) else list(properties)
    line = "::" + command
    rendered: list[str] = []
    for key, value in items:
        if not key or any(ch in key for ch in " ,=:\r\n"):
            raise ValueError(f"invalid property name {key!r}")
        if value:  # command.ts: `if (val)` - empty values are dropped
            rendered.append(f"{key}={escape_property(value)}")
    if rendered:
        line += " " + ",".join(rendered)
        last = _code_points(_to_units(line))[-1][2]
        if _in_ranges(last, _PREPEND_RANGES):
            line += _ZWSP
    data = escape_data(message)
    if data:
        first = _code_points(_to_units(data))[0][2]
        if _in_ranges(first, _ATTACHING_RANGES):
            data = _ZWSP + data
    return line + "::" + data
