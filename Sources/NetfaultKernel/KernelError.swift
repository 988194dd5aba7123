import CNetfault
import Glibc

/// A failed system call or netlink request: the operation, the errno, and the
/// kernel's extended-ack message when it gave one.
public struct KernelError: Error, CustomStringConvertible, Equatable, Sendable {
    public let operation: String
    public let errno: Int32
    public let kernelMessage: String?

    public init(_ operation: String, errno: Int32, kernelMessage: String? = nil) {
        self.operation = operation
        self.errno = errno
        self.kernelMessage = kernelMessage
    }

    public var errnoName: String { Errno.name(errno) }

    public var description: String {
        var text = "\(operation): \(String(cString: strerror(errno))) (\(errnoName))"
        if let kernelMessage, !kernelMessage.isEmpty { text += ": kernel says \"\(kernelMessage)\"" }
        return text
    }
}

public enum Errno {
    /// The symbolic name ("ECONNREFUSED") of an errno value.
    public static func name(_ value: Int32) -> String {
        if let name = nf_errno_name(value) { return String(cString: name) }
        return "errno \(value)"
    }
}
