import CNetfault

/// One received netlink message: its header fields and payload (after nlmsghdr).
public struct ReceivedMessage: Sendable, Equatable {
    public let type: UInt16
    public let flags: UInt16
    public let sequence: UInt32
    public let payload: ArraySlice<UInt8>
}

public struct NetlinkDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public var description: String { "malformed netlink data: \(reason)" }
}

/// Pure decoding of netlink byte streams: no sockets, so it is tested with known bytes and fuzzed.
public enum NetlinkDecoder {
    static let headerLength = Int(nf_nlmsg_hdrlen())

    /// Splits a datagram into messages, checking every length against the buffer.
    public static func messages(_ data: ArraySlice<UInt8>) throws -> [ReceivedMessage] {
        var result: [ReceivedMessage] = []
        var offset = data.startIndex
        while data.endIndex - offset >= headerLength {
            let length = Int(data.loadU32(at: offset))
            guard length >= headerLength, length <= data.endIndex - offset else {
                throw NetlinkDecodeError(reason: "message length \(length) at offset \(offset - data.startIndex) exceeds the \(data.endIndex - offset) bytes left")
            }
            result.append(ReceivedMessage(
                type: data.loadU16(at: offset + 4),
                flags: data.loadU16(at: offset + 6),
                sequence: data.loadU32(at: offset + 8),
                payload: data[(offset + headerLength)..<(offset + length)]))
            offset += min(Int(nf_nlmsg_align(UInt32(length))), data.endIndex - offset)
        }
        return result
    }

    /// Attributes (type without flag bits → value bytes) of a payload from `offset`.
    /// A later attribute of the same type replaces an earlier one.
    public static func attributes(_ data: ArraySlice<UInt8>) throws -> [UInt16: ArraySlice<UInt8>] {
        var result: [UInt16: ArraySlice<UInt8>] = [:]
        var offset = data.startIndex
        let attrHeader = Int(nf_nla_hdrlen())
        while data.endIndex - offset >= attrHeader {
            let length = Int(data.loadU16(at: offset))
            guard length >= attrHeader, length <= data.endIndex - offset else {
                throw NetlinkDecodeError(reason: "attribute length \(length) at offset \(offset - data.startIndex) exceeds the \(data.endIndex - offset) bytes left")
            }
            result[nf_nla_type(data.loadU16(at: offset + 2))] = data[(offset + attrHeader)..<(offset + length)]
            offset += min(Int(nf_nla_align(UInt32(length))), data.endIndex - offset)
        }
        return result
    }

    /// Decodes an NLMSG_ERROR payload: nil for an ack (error 0), else the errno
    /// and the extended-ack text (NLMSGERR_ATTR_MSG) when the kernel sent one.
    public static func error(_ message: ReceivedMessage) throws -> (errno: Int32, kernelMessage: String?)? {
        let payload = message.payload
        guard payload.count >= 4 + headerLength else {
            throw NetlinkDecodeError(reason: "NLMSG_ERROR payload of \(payload.count) bytes is shorter than nlmsgerr")
        }
        let code = Int32(bitPattern: payload.loadU32(at: payload.startIndex))
        guard code != 0 else { return nil }
        // The kernel sends 0 or -errno; anything else (Int32.min cannot even be negated) is malformed.
        guard code < 0, code != .min else {
            throw NetlinkDecodeError(reason: "NLMSG_ERROR code \(code) is not a negative errno")
        }
        var kernelMessage: String?
        if Int32(message.flags) & NLM_F_ACK_TLVS != 0 {
            // With NETLINK_CAP_ACK only the original header follows the error code,
            // unless NLM_F_CAPPED is clear: then the whole original message does.
            var tlvStart = payload.startIndex + 4 + headerLength
            if Int32(message.flags) & NLM_F_CAPPED == 0 {
                let originalLength = Int(payload.loadU32(at: payload.startIndex + 4))
                tlvStart = payload.startIndex + 4 + Int(nf_nlmsg_align(UInt32(originalLength)))
            }
            if tlvStart <= payload.endIndex,
               let text = try attributes(payload[tlvStart...])[UInt16(NLMSGERR_ATTR_MSG.rawValue)] {
                kernelMessage = String(decoding: text.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return (-code, kernelMessage)
    }
}

extension ArraySlice where Element == UInt8 {
    /// Host-order loads at an absolute index; callers check bounds first.
    func loadU16(at index: Int) -> UInt16 {
        withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index - startIndex, as: UInt16.self) }
    }
    func loadU32(at index: Int) -> UInt32 {
        withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index - startIndex, as: UInt32.self) }
    }
    func loadU64(at index: Int) -> UInt64 {
        withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index - startIndex, as: UInt64.self) }
    }
    /// Network-order (big-endian) 16-bit load, for ports.
    func loadBigEndianU16(at index: Int) -> UInt16 {
        UInt16(self[index]) << 8 | UInt16(self[index + 1])
    }
}
