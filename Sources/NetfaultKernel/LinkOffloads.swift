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
}
