/// One output stream of a process as the JSON keeps it: the first and last 64 KiB, the total
/// size, and whether bytes between the two were left out. With `cut` false, `head` followed
/// by `tail` is the whole output. Bytes that are not UTF-8 read as U+FFFD.
///
/// ```json
/// {"bytes": 2000000000, "cut": true, "head": "xxxx…", "tail": "…xxxx"}
/// ```
public struct ProcessOutput: Codable, Sendable, Equatable {
    /// Everything the process wrote on the stream.
    public var bytes: Int
    /// True when bytes between `head` and `tail` were left out.
    public var cut: Bool
    /// The first bytes (at most 64 KiB).
    public var head: String
    /// The last bytes after `head` (at most 64 KiB).
    public var tail: String

    /// A record of `bytes` bytes in all, `head` and `tail`, with the middle `cut` or not.
    public init(bytes: Int = 0, cut: Bool = false, head: String = "", tail: String = "") {
        self.bytes = bytes
        self.cut = cut
        self.head = head
        self.tail = tail
    }

    /// Output written before it was bounded (a JSON string): kept whole.
    public init(whole text: String) {
        self.init(bytes: text.utf8.count, cut: false, head: text, tail: "")
    }

    /// The kept text; where bytes were left out, a line saying how many.
    public var text: String {
        cut ? head + "\n[… \(bytes - head.utf8.count - tail.utf8.count) bytes left out …]\n" + tail : head + tail
    }

    /// The last non-empty line kept, trimmed to 200 characters (for failure messages).
    public var lastLine: String? {
        let line = (head + tail).split(whereSeparator: \.isNewline).last { !$0.allSatisfy(\.isWhitespace) }
        return line.map { String($0.prefix(200)) }
    }
}
