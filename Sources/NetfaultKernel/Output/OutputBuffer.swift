/// What is kept of one output stream: the first `keep` bytes, the last `keep` bytes after
/// them (a ring), and the total count. Memory stays at 2 × `keep` however much is written;
/// each append costs at most two copies of at most `keep` bytes, whatever the chunk's size.
/// Not thread-safe: the owner serializes appends and reads.
public final class OutputBuffer {
    public static let defaultKeep = 64 * 1024

    public let keep: Int
    public private(set) var total = 0
    private var head: [UInt8]
    private var ring: [UInt8] = []
    /// Where the next ring byte goes, and how many ring bytes are valid.
    private var ringEnd = 0
    private var ringCount = 0
    /// Bytes skipped since the ring was last brought up to date.
    private var skippedSinceTail = 0

    public init(keep: Int = OutputBuffer.defaultKeep) {
        precondition(keep > 0)
        self.keep = keep
        head = []
        head.reserveCapacity(keep)
    }

    public func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        total += bytes.count
        var rest = bytes
        if head.count < keep {
            let taken = min(keep - head.count, rest.count)
            let start = head.count
            head.append(contentsOf: repeatElement(0, count: taken))
            head.withUnsafeMutableBytes { ($0.baseAddress! + start).copyMemory(from: rest.baseAddress!, byteCount: taken) }
            rest = UnsafeRawBufferPointer(rebasing: rest[taken...])
        }
        guard !rest.isEmpty else { return }
        if ring.isEmpty { ring = [UInt8](repeating: 0, count: keep) }
        // Only the last `keep` bytes of a big chunk can survive.
        if rest.count >= keep {
            rest = UnsafeRawBufferPointer(rebasing: rest[(rest.count - keep)...])
            ring.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: rest.baseAddress!, byteCount: keep) }
            ringEnd = 0
            ringCount = keep
            return
        }
        let first = min(keep - ringEnd, rest.count)
        ring.withUnsafeMutableBytes { ringBytes in
            (ringBytes.baseAddress! + ringEnd).copyMemory(from: rest.baseAddress!, byteCount: first)
            if first < rest.count {
                ringBytes.baseAddress!.copyMemory(from: rest.baseAddress! + first, byteCount: rest.count - first)
            }
        }
        ringEnd = (ringEnd + rest.count) % keep
        ringCount = min(keep, ringCount + rest.count)
    }

    /// Counts bytes that went past without being kept (moved by splice); `keepTail` later
    /// gives the last of them. Until then the tail is unknown, and reads as empty.
    public func skip(_ count: Int) {
        total += count
        skippedSinceTail += count
    }

    /// Keeps `bytes`, the last of those skipped (counted already), as the end of the tail;
    /// what the ring held stays before them when nothing was skipped between.
    public func keepTail(_ bytes: UnsafeRawBufferPointer) {
        precondition(head.count == keep && bytes.count <= skippedSinceTail, "a tail of skipped bytes follows a full head")
        if skippedSinceTail > bytes.count {
            ringCount = 0
            ringEnd = 0
        }
        let counted = total
        append(bytes)
        total = counted
        skippedSinceTail = 0
    }

    public var headBytes: [UInt8] { head }

    /// The last bytes after the head, oldest first (empty while skipped bytes await their tail).
    public var tailBytes: [UInt8] {
        if skippedSinceTail > 0 { return [] }
        let start = (ringEnd - ringCount + keep) % keep
        if start + ringCount <= keep { return Array(ring[start..<(start + ringCount)]) }
        return Array(ring[start...] + ring[..<ringEnd])
    }

    /// True when bytes between the head and the tail were dropped.
    public var isCut: Bool { total > head.count + (skippedSinceTail > 0 ? 0 : ringCount) }
}

/// Splits a stream into lines as chunks arrive, without copying whole chunks: each line
/// (without its newline) goes to the handler; a line longer than `maximumLine` goes in
/// pieces of that size, so memory stays bounded. Not thread-safe.
public final class LineSplitter {
    public let maximumLine: Int
    /// A line begun in an earlier chunk; copied with memcpy, never byte by byte.
    private var pending: [UInt8]
    private var pendingCount = 0

    public init(maximumLine: Int = OutputBuffer.defaultKeep) {
        precondition(maximumLine > 0)
        self.maximumLine = maximumLine
        pending = [UInt8](repeating: 0, count: maximumLine)
    }

    public func feed(_ bytes: UnsafeRawBufferPointer, _ line: (UnsafeRawBufferPointer) -> Void) {
        var rest = bytes
        while !rest.isEmpty {
            guard let newline = Sys.indexOfByte(0x0A, in: rest) else {
                appendPending(rest, line)
                return
            }
            let piece = UnsafeRawBufferPointer(rebasing: rest[0..<newline])
            if pendingCount == 0 {
                emitInPieces(piece, line)
            } else {
                appendPending(piece, line)
                // Empty when the line filled a whole piece just now: it was emitted.
                if pendingCount > 0 { emitPending(line) }
            }
            rest = UnsafeRawBufferPointer(rebasing: rest[(newline + 1)...])
        }
    }

    /// At end of file: the last line, if it had no newline.
    public func finish(_ line: (UnsafeRawBufferPointer) -> Void) {
        if pendingCount > 0 { emitPending(line) }
    }

    private func emitPending(_ line: (UnsafeRawBufferPointer) -> Void) {
        pending.withUnsafeBytes { line(UnsafeRawBufferPointer(rebasing: $0[0..<pendingCount])) }
        pendingCount = 0
    }

    private func emitInPieces(_ bytes: UnsafeRawBufferPointer, _ line: (UnsafeRawBufferPointer) -> Void) {
        var rest = bytes
        repeat {
            let count = min(maximumLine, rest.count)
            line(UnsafeRawBufferPointer(rebasing: rest[0..<count]))
            rest = UnsafeRawBufferPointer(rebasing: rest[count...])
        } while !rest.isEmpty
    }

    private func appendPending(_ bytes: UnsafeRawBufferPointer, _ line: (UnsafeRawBufferPointer) -> Void) {
        var rest = bytes
        while !rest.isEmpty {
            let count = min(maximumLine - pendingCount, rest.count)
            pending.withUnsafeMutableBytes {
                ($0.baseAddress! + pendingCount).copyMemory(from: rest.baseAddress!, byteCount: count)
            }
            pendingCount += count
            rest = UnsafeRawBufferPointer(rebasing: rest[count...])
            if pendingCount == maximumLine { emitPending(line) }
        }
    }
}
