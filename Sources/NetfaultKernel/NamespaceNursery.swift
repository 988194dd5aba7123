/// The namespace netfault makes its namespaces from. A new network namespace takes the size
/// of its TCP hash table from its creator's net.ipv4.tcp_child_ehash_entries; at 0 (the
/// default, and the root namespace's, which netfault never changes) it shares the host's
/// table, 262,144 buckets on these machines, and every sock_diag dump walks all of them:
/// ~0.25 ms a dump, while the sampler dumps each host's two families every millisecond (with
/// four scenarios at once that alone kept both CPUs busy and made timers late). The nursery,
/// a namespace of netfault's own that never holds a socket, sets 4096, so a dump of a
/// namespace made from it walks 4096 buckets (Linux 6.1 and later; on older kernels the
/// sysctl is missing, there is no nursery, and namespaces share the host's table as before).
final class NamespaceNursery: @unchecked Sendable {  // immutable once made; its namespace is only entered
    static let shared: NamespaceNursery? = try? NamespaceNursery()
    static let childBuckets = 4096
    /// tcp_max_syn_backlog and tcp_max_tw_buckets default to fractions of the table's size
    /// (1/128 and 1/2). A namespace made from the nursery is given the values a namespace
    /// sharing the host's table gets, read in the nursery, which shares it.
    static let tableSizedSysctls = ["net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_max_tw_buckets"]

    let namespace: NetworkNamespace
    let tableSizedDefaults: [(name: String, value: String)]

    private init() throws {
        let namespace = try NetworkNamespace(name: "nursery", nursery: nil)
        tableSizedDefaults = try Self.tableSizedSysctls.map { ($0, try SysctlAccess.read($0, in: namespace)) }
        try SysctlAccess.write("net.ipv4.tcp_child_ehash_entries", "\(Self.childBuckets)", in: namespace)
        self.namespace = namespace
    }
}
