import Foundation
import Glibc

/// Per-namespace sysctls under /proc/sys/net, opened from a thread inside the
/// namespace so the root namespace's values are never read or written.
public enum SysctlAccess {
    /// "net.ipv4.tcp_syn_retries" → "/proc/sys/net/ipv4/tcp_syn_retries".
    public static func path(of name: String) -> String {
        "/proc/sys/" + name.replacingOccurrences(of: ".", with: "/")
    }

    /// Equivalent to `ip netns exec NS sysctl -w NAME=VALUE`.
    public static func write(_ name: String, _ value: String, in namespace: NetworkNamespace) throws {
        let fd = try namespace.open(path(of: name), flags: O_WRONLY)
        defer { Sys.close(fd) }
        try Sys.write(fd, value + "\n", operation: "sysctl -w \(name)=\(value) in \(namespace.name)")
    }

    /// Equivalent to `ip netns exec NS sysctl -n NAME`.
    public static func read(_ name: String, in namespace: NetworkNamespace) throws -> String {
        let fd = try namespace.open(path(of: name))
        defer { Sys.close(fd) }
        return try Sys.readAll(fd, operation: "sysctl \(name) in \(namespace.name)")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether the namespace lets this sysctl be written: some are shown read-only outside
    /// the root namespace. Opens it for writing and closes it; nothing is written.
    public static func isWritable(_ name: String, in namespace: NetworkNamespace) -> Bool {
        guard let fd = try? namespace.open(path(of: name), flags: O_WRONLY) else { return false }
        Sys.close(fd)
        return true
    }

    /// This machine's own (the root namespace's) value, read only; nil if it cannot be read
    /// (write-only entries like net.ipv4.route.flush). Equivalent to `sysctl -n NAME`.
    public static func readRootNamespace(_ name: String) -> String? {
        Sys.readFile(path(of: name))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The names of every sysctl under `prefix` ("net") in the root namespace's /proc/sys,
    /// sorted. Equivalent to `sysctl -N -a -r '^net\.'`; a name's dots are the path's slashes.
    public static func rootNamespaceNames(under prefix: String) -> [String] {
        let top = path(of: prefix)
        guard let enumerator = FileManager.default.enumerator(atPath: top) else { return [] }
        var names: [String] = []
        while let relative = enumerator.nextObject() as? String {
            if enumerator.fileAttributes?[.type] as? FileAttributeType == .typeRegular,
               !relative.contains(".") {  // an interface named "eth0.100" has no dotted sysctl name
                names.append(prefix + "." + relative.replacingOccurrences(of: "/", with: "."))
            }
        }
        return names.sorted()
    }
}
