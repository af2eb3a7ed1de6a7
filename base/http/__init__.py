"""What both HTTP services share: typed errors, the one handler that answers them,
JSON responses, bounded bodies and bearer tokens."""
