import NetfaultPeer

/// A parsed peer script (the words of `netfault peer`), validated before anything is built.
public final class PeerScript: @unchecked Sendable {
    let pointer: OpaquePointer
    public let words: [String]

    /// Throws the parser's message, which names the offending word.
    public init(_ words: [String]) throws {
        var message = [CChar](repeating: 0, count: 512)
        let parsed: OpaquePointer? = withCStrings(words) { argv in
            argv.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: words.count + 1) {
                nf_peer_parse(Int32(words.count), $0, &message, message.count)
            }
        }
        guard let parsed else {
            throw PeerScriptError(message: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        pointer = parsed
        self.words = words
    }

    deinit { nf_peer_free(pointer) }
}

public struct PeerScriptError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}
