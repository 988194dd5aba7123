import Testing
@testable import NetfaultKernel

/// The bounded record of a stream and the line splitter, fed in chunks of every size.
@Suite struct OutputBufferTests {
    /// Bytes 0, 1, 2, … 250, 0, 1 …: every position tells where it came from.
    private static func bytes(_ count: Int, from start: Int = 0) -> [UInt8] {
        (start..<(start + count)).map { UInt8($0 % 251) }
    }

    private static func feed(_ buffer: OutputBuffer, _ bytes: [UInt8], chunk: Int) {
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            bytes[offset..<end].withUnsafeBytes { buffer.append($0) }
            offset = end
        }
    }

    @Test func shortOutputIsKeptWholeInTheHead() {
        let buffer = OutputBuffer(keep: 16)
        Self.feed(buffer, Self.bytes(10), chunk: 3)
        #expect(buffer.headBytes == Self.bytes(10))
        #expect(buffer.tailBytes.isEmpty)
        #expect(buffer.total == 10 && !buffer.isCut)
    }

    @Test func upToTwiceTheKeepNothingIsCut() {
        let buffer = OutputBuffer(keep: 16)
        Self.feed(buffer, Self.bytes(32), chunk: 5)
        #expect(buffer.headBytes + buffer.tailBytes == Self.bytes(32))
        #expect(!buffer.isCut)
        buffer.withOneMore()
        #expect(buffer.isCut && buffer.total == 33)
        #expect(buffer.tailBytes == Array(Self.bytes(33)[17...]))
    }

    @Test(arguments: [1, 7, 16, 17, 100, 1000])
    func longOutputKeepsFirstAndLastBytesWhateverTheChunks(chunk: Int) {
        let buffer = OutputBuffer(keep: 16)
        let all = Self.bytes(1000)
        Self.feed(buffer, all, chunk: chunk)
        #expect(buffer.total == 1000)
        #expect(buffer.isCut)
        #expect(buffer.headBytes == Array(all[..<16]))
        #expect(buffer.tailBytes == Array(all[(1000 - 16)...]), "chunk \(chunk)")
    }

    @Test func tailAfterAHugeChunkThenSmallOnes() {
        let buffer = OutputBuffer(keep: 8)
        Self.feed(buffer, Self.bytes(100), chunk: 100)
        Self.feed(buffer, Self.bytes(3, from: 100), chunk: 3)
        #expect(buffer.tailBytes == Self.bytes(8, from: 95))
        #expect(buffer.total == 103)
    }

    @Test func skippedBytesCountButTheTailComesAfterThem() {
        let buffer = OutputBuffer(keep: 8)
        Self.feed(buffer, Self.bytes(12), chunk: 12)
        buffer.skip(100)
        #expect(buffer.total == 112 && buffer.tailBytes.isEmpty, "unknown until keepTail")
        Self.bytes(5, from: 107).withUnsafeBytes { buffer.keepTail($0) }
        #expect(buffer.total == 112, "the tail was counted when skipped")
        #expect(buffer.tailBytes == Self.bytes(5, from: 107), "nothing older: 95 bytes between are gone")
        #expect(buffer.isCut)
    }

    @Test func aShortSkipKeepsWhatTheRingHeldBeforeIt() {
        let buffer = OutputBuffer(keep: 8)
        Self.feed(buffer, Self.bytes(11), chunk: 11)
        buffer.skip(3)
        Self.bytes(3, from: 11).withUnsafeBytes { buffer.keepTail($0) }
        #expect(buffer.headBytes + buffer.tailBytes == Self.bytes(14))
        #expect(!buffer.isCut && buffer.total == 14)
    }

    @Test func splitterFindsLinesAcrossChunkBoundaries() {
        let text = Array("first\nsecond line\n\nthird".utf8)
        for chunk in 1...text.count {
            let splitter = LineSplitter(maximumLine: 64)
            var lines: [String] = []
            var offset = 0
            while offset < text.count {
                let end = min(text.count, offset + chunk)
                text[offset..<end].withUnsafeBytes { splitter.feed($0) { lines.append(String(decoding: $0, as: UTF8.self)) } }
                offset = end
            }
            splitter.finish { lines.append(String(decoding: $0, as: UTF8.self)) }
            #expect(lines == ["first", "second line", "", "third"], "chunk \(chunk)")
        }
    }

    @Test func splitterCutsLongLinesIntoPieces() {
        let splitter = LineSplitter(maximumLine: 4)
        var lines: [String] = []
        for piece in ["abcdef", "ghij\nxy", "z\n"] {
            Array(piece.utf8).withUnsafeBytes { splitter.feed($0) { lines.append(String(decoding: $0, as: UTF8.self)) } }
        }
        splitter.finish { lines.append(String(decoding: $0, as: UTF8.self)) }
        #expect(lines == ["abcd", "efgh", "ij", "xyz"])
    }
}

private extension OutputBuffer {
    func withOneMore() { [UInt8(32 % 251)].withUnsafeBytes { append($0) } }
}
