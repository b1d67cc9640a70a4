"""Socket.IO (contract section 2): handshake, client events with acks, server events."""
