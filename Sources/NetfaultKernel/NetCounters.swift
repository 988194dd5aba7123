import Glibc

/// /proc/net/snmp and /proc/net/netstat of one namespace, kept open so each
/// reading is a pread (the fds were opened from a thread inside the namespace).
public final class NetCounterReader {
    private let fds: [Int32]
    private let namespaceName: String

    public init(namespace: NetworkNamespace) throws {
        namespaceName = namespace.name
        let snmp = try namespace.open("/proc/thread-self/net/snmp")
        do {
            fds = [snmp, try namespace.open("/proc/thread-self/net/netstat")]
        } catch {
            Sys.close(snmp)
            throw error
        }
    }

    deinit { fds.forEach(Sys.close) }

    /// Every counter, named as `nstat` names them: "TcpActiveOpens", "TcpExtListenOverflows".
    public func read() throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for fd in fds {
            let text = try Sys.readAll(fd, operation: "read /proc/net counters in \(namespaceName)")
            result.merge(NetCounterParser.parse(text)) { _, new in new }
        }
        return result
    }
}

/// Parses the "Prefix: name name…" / "Prefix: value value…" line pairs of
/// /proc/net/snmp and /proc/net/netstat. Pure, so it is tested without root.
public enum NetCounterParser {
    public static func parse(_ text: String) -> [String: Int64] {
        var result: [String: Int64] = [:]
        let lines = text.split(separator: "\n")
        var index = 0
        while index + 1 < lines.count {
            let names = lines[index].split(separator: " ")
            let values = lines[index + 1].split(separator: " ")
            guard let prefix = names.first, prefix.hasSuffix(":"), values.first == prefix,
                  names.count == values.count else {
                index += 1
                continue
            }
            let group = prefix.dropLast()
            for (name, value) in zip(names.dropFirst(), values.dropFirst()) {
                if let number = Int64(value) { result["\(group)\(name)"] = number }
            }
            index += 2
        }
        return result
    }

    /// What changed between two readings (counters that stayed the same are left out).
    public static func delta(from before: [String: Int64], to after: [String: Int64]) -> [String: Int64] {
        var result: [String: Int64] = [:]
        for (name, value) in after {
            let change = value - (before[name] ?? 0)
            if change != 0 { result[name] = change }
        }
        return result
    }
}
