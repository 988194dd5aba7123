import CNetfault

/// Builds one netlink message with libmnl into a byte buffer.
/// The bytes are what goes on the wire, so tests compare them with known encodings.
public struct NetlinkMessage: Sendable, Equatable {
    public private(set) var bytes: [UInt8]
    /// What the request does, in iproute2 terms, for error messages.
    public let operation: String

    public init(type: UInt16, flags: Int32, operation: String, build: (NetlinkMessageWriter) -> Void) {
        self.operation = operation
        var storage = [UInt8](repeating: 0, count: 4096)
        let length = storage.withUnsafeMutableBytes { raw -> Int in
            let header = mnl_nlmsg_put_header(raw.baseAddress)!
            header.pointee.nlmsg_type = type
            header.pointee.nlmsg_flags = UInt16(truncatingIfNeeded: flags)
            build(NetlinkMessageWriter(header: header, capacity: raw.count))
            return Int(header.pointee.nlmsg_len)
        }
        bytes = Array(storage[0..<length])
    }

    /// Sets nlmsg_seq in place (bytes 8..<12, host order).
    mutating func setSequence(_ sequence: UInt32) {
        withUnsafeBytes(of: sequence) { seq in
            for index in 0..<4 { bytes[8 + index] = seq[index] }
        }
    }
}

/// Appends headers and attributes to a message being built.
public struct NetlinkMessageWriter {
    fileprivate let header: UnsafeMutablePointer<nlmsghdr>
    fileprivate let capacity: Int

    /// Appends a fixed family header such as `ifinfomsg` (mnl_nlmsg_put_extra_header).
    public func putHeader<T>(_ value: T) {
        var copy = value
        precondition(Int(header.pointee.nlmsg_len) + MemoryLayout<T>.size <= capacity)
        let destination = mnl_nlmsg_put_extra_header(header, MemoryLayout<T>.size)!
        withUnsafeBytes(of: &copy) { destination.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    // The *_check variants refuse to write past the buffer; a message that does not
    // fit is a programming error, so it stops here rather than corrupting memory.

    public func put(_ type: UInt16, string: String) {
        precondition(mnl_attr_put_strz_check(header, capacity, type, string), "netlink message exceeds \(capacity) bytes")
    }

    public func put(_ type: UInt16, u32 value: UInt32) {
        precondition(mnl_attr_put_u32_check(header, capacity, type, value), "netlink message exceeds \(capacity) bytes")
    }

    public func put(_ type: UInt16, u8 value: UInt8) {
        precondition(mnl_attr_put_u8_check(header, capacity, type, value), "netlink message exceeds \(capacity) bytes")
    }

    public func put(_ type: UInt16, bytes value: [UInt8]) {
        let fits = value.withUnsafeBytes { mnl_attr_put_check(header, capacity, type, $0.count, $0.baseAddress) }
        precondition(fits, "netlink message exceeds \(capacity) bytes")
    }

    /// A nested attribute (mnl_attr_nest_start / mnl_attr_nest_end).
    public func nest(_ type: UInt16, _ body: () -> Void) {
        guard let start = mnl_attr_nest_start_check(header, capacity, type) else {
            preconditionFailure("netlink message exceeds \(capacity) bytes")
        }
        body()
        mnl_attr_nest_end(header, start)
    }
}

public extension Int32 {
    /// Netlink flag constants are imported as Int32; messages store them in 16 bits.
    static let nlRequestAck = NLM_F_REQUEST | NLM_F_ACK
    static let nlCreateExclusive = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
    static let nlDump = NLM_F_REQUEST | NLM_F_DUMP
}

// MARK: - netem: an attribute that starts with a fixed struct (added with Netem.swift)

extension NetlinkMessageWriter {
    /// An attribute whose value is `leading` (a fixed struct) followed by the
    /// attributes `body` writes, its length fixed up afterwards as
    /// mnl_attr_nest_end does, but without NLA_F_NESTED: how tc sends netem's
    /// TCA_OPTIONS (struct tc_netem_qopt, then TCA_NETEM_*), which the kernel
    /// parses with nla_parse_nested at an offset.
    public func put(_ type: UInt16, leading: [UInt8], then body: () -> Void) {
        let start = mnl_nlmsg_get_payload_tail(header)!
        put(type, bytes: leading)
        body()
        let length = mnl_nlmsg_get_payload_tail(header)! - start
        start.assumingMemoryBound(to: nlattr.self).pointee.nla_len = UInt16(length)
    }
}
