import NetfaultKernel

/// `--host-sysctls`: this machine's own tuning, as sysctls for every namespace.
///
/// A sysctl counts as per-namespace when a new namespace has it and lets it be written:
/// the kernel shows a namespace only the tables registered for it (the global ones, like
/// net.core.rmem_max, exist only in the root namespace), and shows a few of the root's
/// read-only. The new namespace is made as netfault makes every namespace, so what differs
/// is exactly what a scenario would otherwise not see. The root namespace is only read.
public enum HostSysctls {
    /// Families a scenario may set (`ScenarioValidator`); the rest of net.* is not TCP's.
    static let families = ["net.ipv4.", "net.ipv6.", "net.core.", "net.unix.", "net.netfilter."]
    /// Keys, not tuning: never copied (nor written into a result).
    static let secrets = ["net.ipv4.tcp_fastopen_key", ".stable_secret"]

    /// This machine's per-namespace sysctls whose values differ from a new namespace's, each
    /// checked by writing it in a scratch namespace (one the kernel refuses there is left out).
    /// `source` nil: the root namespace (read only); a namespace: its values (for tests).
    public static func read(from source: NetworkNamespace? = nil) throws -> [HostSysctl] {
        let scratch = try NetworkNamespace(name: "host-sysctls")
        var mine: [String: String] = [:], fresh: [String: String] = [:]
        for name in SysctlAccess.rootNamespaceNames(under: "net") where considered(name) {
            guard let value = try? SysctlAccess.read(name, in: scratch), SysctlAccess.isWritable(name, in: scratch) else { continue }
            fresh[name] = value
            let own = source.map { try? SysctlAccess.read(name, in: $0) } ?? SysctlAccess.readRootNamespace(name)
            if let own { mine[name] = own }
        }
        return differences(mine: mine, fresh: fresh).filter { sysctl in
            (try? SysctlAccess.write(sysctl.name, sysctl.value, in: scratch)) != nil
        }
    }

    static func considered(_ name: String) -> Bool {
        families.contains { name.hasPrefix($0) } && !secrets.contains { name.hasSuffix($0) }
    }

    /// The sysctls both have whose values differ (tabs and spaces alike), by name; an
    /// empty reading (an unset key reads as nothing) is no value.
    static func differences(mine: [String: String], fresh: [String: String]) -> [HostSysctl] {
        func normalized(_ value: String) -> String { value.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        return mine.keys.sorted().compactMap { name in
            guard let own = mine[name], let new = fresh[name], !normalized(own).isEmpty, !normalized(new).isEmpty,
                  normalized(own) != normalized(new) else { return nil }
            return HostSysctl(name: name, value: own)
        }
    }
}
