import Glibc

/// How many connection requests a listener keeps in its SYN queue, measured on the running
/// kernel: kernels differ here, and neither a sysctl nor the version says which way (the
/// change was taken into the stable kernels).
///
/// A listener whose backlog is B (as the kernel holds it: min(backlog, somaxconn)) refuses
/// new SYNs, with syncookies off, once B + 1 requests wait: inet_csk_reqsk_queue_is_full()
/// tests "more than the backlog" since commit 3479c7549fb1 (January 2025). Before it, the
/// queue was full at B (Debian's 5.10.223 of August 2024).
public enum SynQueueCapacity {
    /// The requests the queue holds beyond the backlog (1, or 0 before the fix), measured once
    /// per process: the kernel does not change while it runs.
    public static let beyondBacklog: Result<Int, KernelError> = {
        do {
            return .success(try measure(backlog: 2) - 2)
        } catch let error as KernelError {
            return .failure(error)
        } catch {
            return .failure(KernelError("SYN queue probe: \(error)", errno: EIO))
        }
    }()

    /// The requests a listener with `backlog` keeps before it refuses SYNs.
    public static func requests(backlog: Int) -> Result<Int, KernelError> {
        beyondBacklog.map { backlog + $0 }
    }

    /// Equivalent to, in a new namespace: `ip link set lo up`, `sysctl -w
    /// net.ipv4.tcp_syncookies=0`, a listener on 127.0.0.1 with `backlog` and TCP_DEFER_ACCEPT,
    /// then connects from 127.0.0.1, each waiting at most 0.5 s, until one gets no SYN-ACK.
    /// TCP_DEFER_ACCEPT makes the listener drop the handshake's bare ACK and keep the request
    /// in its SYN queue (SYN_RECV), so each connect that succeeds leaves one request there,
    /// and the first SYN the full queue refuses is dropped: its connect waits, unanswered. The
    /// 0.5 s is far beyond a loopback handshake (under a millisecond; milliseconds in an
    /// emulated VM) and short of the SYN's first retransmission at 1 s.
    static func measure(backlog: Int) throws -> Int {
        let namespace = try NetworkNamespace(name: "syn-queue-probe")
        try namespace.rtnetlink().perform([Rtnetlink.setUp(index: 1, name: "lo")])
        try SysctlAccess.write("net.ipv4.tcp_syncookies", "0", in: namespace)
        let operation = "SYN queue probe"
        let port: UInt16 = 7700
        let listener = try tcpSocket(in: namespace)
        defer { Sys.close(listener) }
        try Sys.setSocketOption(listener, level: Int32(IPPROTO_TCP), name: TCP_DEFER_ACCEPT, value: 30,
                                operation: "\(operation): TCP_DEFER_ACCEPT")
        try Sys.listenOnLoopback(listener, port: port, backlog: Int32(backlog), operation: operation)
        var clients: [Int32] = []
        defer { clients.forEach(Sys.close) }
        // A queue that takes far more than its backlog is not the behaviour described above.
        for held in 0...(backlog + 2) {
            let client = try tcpSocket(in: namespace)
            clients.append(client)
            if try !Sys.connectToLoopback(client, port: port, timeoutSeconds: 0.5, operation: operation) { return held }
        }
        throw KernelError("\(operation): the SYN queue of a listener with backlog \(backlog) held more than \(backlog + 2) requests",
                          errno: EOVERFLOW)
    }

    private static func tcpSocket(in namespace: NetworkNamespace) throws -> Int32 {
        try Sys.socket(inNamespace: namespace.fd, domain: AF_INET, type: Int32(SOCK_STREAM.rawValue), protocol: 0,
                       operation: "socket(AF_INET, SOCK_STREAM) in \(namespace.name)")
    }
}
