import CNetfault

/// Turns off segmentation and receive offloads so every TCP segment on a test
/// link stays one segment on the wire, as the capture and the fault engine see it.
public enum LinkOffloads {
    /// Equivalent to `ethtool -K NAME tso off gso off gro off` for each link, inside the namespace.
    public static func disable(links: [String], in namespace: NetworkNamespace) throws {
        guard !links.isEmpty else { return }
        let socket = try namespace.controlSocket()
        defer { Sys.close(socket) }
        for link in links {
            for (command, feature) in [(nf_ethtool_cmd_stso(), "tso"), (nf_ethtool_cmd_sgso(), "gso"), (nf_ethtool_cmd_sgro(), "gro")] {
                try Sys.ethtool(socket: socket, link: link, command: command, value: 0,
                                operation: "ethtool -K \(link) \(feature) off in \(namespace.name)")
            }
        }
    }

    /// Equivalent to `ethtool -K NAME tx off rx off` for each link, inside the namespace.
    /// What a link needs for a corruption by the tc engine to fail the receiver's checksum:
    /// with tx checksumming off the sender's stack sums each segment in software (after
    /// the tc hook), and with rx checksumming off the receiving veth leaves that sum to be
    /// verified (it marks packets CHECKSUM_UNNECESSARY otherwise). Call it on both ends.
    public static func disableChecksumOffload(links: [String], in namespace: NetworkNamespace) throws {
        guard !links.isEmpty else { return }
        let socket = try namespace.controlSocket()
        defer { Sys.close(socket) }
        for link in links {
            for (command, feature) in [(nf_ethtool_cmd_stxcsum(), "tx"), (nf_ethtool_cmd_srxcsum(), "rx")] {
                try Sys.ethtool(socket: socket, link: link, command: command, value: 0,
                                operation: "ethtool -K \(link) \(feature) off in \(namespace.name)")
            }
        }
    }
}
