import CNetfault
import Glibc

/// A netlink socket bound to one network namespace (opened from a thread inside
/// it). Requests ask for acks and extended-ack text; errors keep both.
public final class NetlinkSocket {
    public let fd: Int32
    private var sequence: UInt32 = 1
    private var buffer = [UInt8](repeating: 0, count: 65536)

    /// Opens a `protocol` (NETLINK_ROUTE, NETLINK_SOCK_DIAG, …) socket inside the namespace.
    public init(namespace: NetworkNamespace, protocol proto: Int32) throws {
        fd = try Sys.socket(inNamespace: namespace.fd, domain: AF_NETLINK, type: Int32(SOCK_RAW.rawValue),
                            protocol: proto, operation: "socket(AF_NETLINK) in \(namespace.name)")
        do {
            try Sys.setSocketOption(fd, level: SOL_NETLINK, name: NETLINK_EXT_ACK, value: 1, operation: "setsockopt NETLINK_EXT_ACK")
            try Sys.setSocketOption(fd, level: SOL_NETLINK, name: NETLINK_CAP_ACK, value: 1, operation: "setsockopt NETLINK_CAP_ACK")
        } catch {
            Sys.close(fd)
            throw error
        }
    }

    deinit { Sys.close(fd) }

    /// Sends requests in one datagram (the kernel handles them in order) and waits
    /// for every ack; the first error is thrown with its request's operation.
    /// Requests at the positions in `unacknowledged` get no ack (the nfnetlink batch
    /// markers): they are not waited for, but an error for one ends the wait at once,
    /// since the kernel then drops the rest of the batch. Returns the replies that
    /// are not acks (the answers to GET requests).
    @discardableResult
    public func perform(_ requests: [NetlinkMessage], unacknowledged: Set<Int> = []) throws -> [ReceivedMessage] {
        guard !requests.isEmpty else { return [] }
        var batch: [UInt8] = []
        var awaited: [UInt32: String] = [:]
        var unacked: [UInt32: String] = [:]
        for (position, var request) in requests.enumerated() {
            sequence &+= 1
            request.setSequence(sequence)
            if unacknowledged.contains(position) {
                unacked[sequence] = request.operation
            } else {
                awaited[sequence] = request.operation
            }
            batch += request.bytes
        }
        try Sys.send(fd, batch, operation: requests[0].operation)
        var replies: [ReceivedMessage] = []
        var firstError: KernelError?
        while !awaited.isEmpty {
            let count = try Sys.receive(fd, into: &buffer, operation: requests[0].operation)
            // Copy out: the buffer is reused for the next datagram.
            let datagram = Array(buffer[0..<count])
            for message in try NetlinkDecoder.messages(datagram[...]) {
                guard message.type == UInt16(NLMSG_ERROR) else {
                    replies.append(message)
                    continue
                }
                if let operation = unacked[message.sequence], let failure = try NetlinkDecoder.error(message) {
                    throw KernelError(operation, errno: failure.errno, kernelMessage: failure.kernelMessage)
                }
                guard let operation = awaited.removeValue(forKey: message.sequence) else { continue }
                if let failure = try NetlinkDecoder.error(message), firstError == nil {
                    firstError = KernelError(operation, errno: failure.errno, kernelMessage: failure.kernelMessage)
                }
            }
        }
        if let firstError { throw firstError }
        return replies
    }

    /// Sends a dump request and returns every message up to NLMSG_DONE.
    public func dump(_ request: NetlinkMessage) throws -> [ReceivedMessage] {
        var request = request
        sequence &+= 1
        request.setSequence(sequence)
        try Sys.send(fd, request.bytes, operation: request.operation)
        var result: [ReceivedMessage] = []
        while true {
            let count = try Sys.receive(fd, into: &buffer, operation: request.operation)
            // Copy out: the buffer is reused for the next datagram.
            let datagram = Array(buffer[0..<count])
            for message in try NetlinkDecoder.messages(datagram[...]) where message.sequence == sequence {
                switch Int32(message.type) {
                case NLMSG_DONE:
                    return result
                case NLMSG_ERROR:
                    if let failure = try NetlinkDecoder.error(message) {
                        throw KernelError(request.operation, errno: failure.errno, kernelMessage: failure.kernelMessage)
                    }
                default:
                    result.append(message)
                }
            }
        }
    }
}

extension NetlinkSocket {
    /// A NETLINK_SOCK_DIAG socket inside the namespace, for `SockDiag.dump`.
    public static func sockDiag(in namespace: NetworkNamespace) throws -> NetlinkSocket {
        try NetlinkSocket(namespace: namespace, protocol: NETLINK_SOCK_DIAG)
    }
}
