import Netfault

/// Every example, in the order `examples list` shows them.
public let examples = [curlTimeConnect, nginxKeepaliveTimeout, socatHalfClose]
