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
}

