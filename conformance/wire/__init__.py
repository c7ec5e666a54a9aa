"""What both ends of the wire speak: AK/SK request signing and TLS. The client and the reference server share it, so
neither imports the other."""
