import Foundation

/// One of a child's output streams.
public enum ChildStream: Int, Sendable, CaseIterable {
    case stdout = 1, stderr = 2
}

/// Called with each line of a stream (without its newline, at most 64 KiB) on the reader
/// thread; returns false when it wants no more lines (then splitting stops: no cost).
public typealias LineHandler = @Sendable (UnsafeRawBufferPointer) -> Bool

/// Reads one stream of a child to its end on a thread of its own: the complete output to
/// the artifact file if there is one, the head and tail to an `OutputBuffer`, lines to a
/// handler if there is one. Its memory is bounded whatever the child writes, and it reads
/// in big chunks so a fast writer never waits on it.
final class StreamRecorder: @unchecked Sendable {
    /// A read never asks for more: what one read returns from a full 1 MiB pipe.
    static let largestRead = 1 << 20
    private static let firstRead = 64 * 1024
    /// A 1 MiB pipe holds ~1.4 ms of a 700 MB/s writer: half of that is room to spare.
    static let batchingPause: Int64 = 500_000

    private let lock = NSLock()
    private let buffer = OutputBuffer()
    /// The artifact file, until the reader closes it at end of file.
    private var artifact: Int32?
    private let artifactPath: String?
    private var artifactFailure: KernelError?
    private let splitter: LineSplitter?
    private var handler: LineHandler?
    /// Cleared when the kernel refused tee or splice: then every byte is read.
    private var spliceAllowed = true

    /// Opens the artifact file now, so an unwritable path fails before the child starts.
    init(artifactPath: String?, lines: LineHandler?) throws {
        artifact = try artifactPath.map { try Sys.open($0, forWriting: true) }
        self.artifactPath = artifactPath
        handler = lines
        splitter = lines == nil ? nil : LineSplitter()
    }

    /// Reads `fd` until end of file, then closes it and leaves `group`.
    func start(reading fd: Int32, group: DispatchGroup) {
        group.enter()
        Thread.detachNewThread { [self] in
            run(fd)
            Sys.close(fd)
            group.leave()
        }
    }

    private func run(_ fd: Int32) {
        // Start small (most programs print little) and grow once a read fills the buffer.
        var size = Self.firstRead
        var memory = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { memory.deallocate() }
        while true {
            let count = Sys.read(fd, into: memory)
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: memory[0..<count])
            consume(chunk)
            if count == size && size < Self.largestRead {
                // A fast writer fills a 64 KiB pipe in microseconds; 1 MiB lets each read take
                // more. Only then: pipe pages count against a per-user limit (pipe-user-pages-soft).
                Sys.setPipeSize(fd, bytes: Int32(Self.largestRead))
                memory.deallocate()
                size = Self.largestRead
                memory = .allocate(byteCount: size, alignment: 16)
            }
            // Past the head, with no lines wanted, the kernel can move the rest.
            if handler == nil && spliceAllowed && lock.withLock({ buffer.total >= buffer.keep }) {
                if spliceToEnd(fd) { break }
                spliceAllowed = false
            }
            // A fast writer: let the pipe fill a while, so reads come in big chunks and the
            // writer is not woken (and switched out) for every few kilobytes.
            if size == Self.largestRead && count < size / 4 { Sys.sleep(nanoseconds: Self.batchingPause) }
        }
        if let splitter, let handler { splitter.finish { _ = handler($0) } }
        closeArtifact()
    }

    private func closeArtifact() {
        if let artifact { Sys.close(artifact) }
        artifact = nil
    }

    /// A recorder whose child never started never read: its artifact file closes here.
    deinit { closeArtifact() }

    /// Reads of the middle of a long output copy every byte into netfault for nothing.
    /// Instead tee(2) shows each batch to a side pipe (no copy), splice(2) moves the batch to
    /// the artifact file or /dev/null (no copy through netfault), and the side pipe is trimmed
    /// to its last 64 KiB: at end of file those become the tail. Returns true at end of file;
    /// false when the kernel refused (then reading goes on, the tail intact).
    private func spliceToEnd(_ fd: Int32) -> Bool {
        guard let side = try? Sys.pipe() else { return false }
        defer { Sys.close(side.read); Sys.close(side.write) }
        guard let null = try? Sys.open("/dev/null", forWriting: true) else { return false }
        defer { Sys.close(null) }
        // tee blocks only while the side pipe is full: trimmed to 64 KiB (17 pages at most)
        // before each batch, 1 MiB (256 pages) always has room. The default 64 KiB would not.
        guard let capacity = Sys.setPipeSize(side.write, bytes: Int32(Self.largestRead)),
              capacity >= 4 * buffer.keep else { return false }
        var sideBytes = 0
        var reachedEnd = false
        while true {
            guard let count = try? Sys.tee(from: fd, to: side.write, length: Self.largestRead) else { break }
            if count == 0 {
                reachedEnd = true
                break
            }
            move(count, from: fd, null: null)
            lock.withLock { buffer.skip(count) }
            sideBytes += count
            if sideBytes > buffer.keep {
                let trimmed = Self.moveAll(sideBytes - buffer.keep, from: side.read, to: null)
                sideBytes -= trimmed.moved
                if trimmed.failure != nil { break }
            }
            if count < Self.largestRead / 4 { Sys.sleep(nanoseconds: Self.batchingPause) }
        }
        // The side pipe holds the last bytes read: they are the tail.
        var tail = [UInt8](repeating: 0, count: sideBytes)
        var filled = 0
        tail.withUnsafeMutableBytes { memory in
            while filled < sideBytes {
                let count = Sys.read(side.read, into: UnsafeMutableRawBufferPointer(rebasing: memory[filled...]))
                if count == 0 { break }
                filled += count
            }
        }
        tail.withUnsafeBytes { bytes in lock.withLock { buffer.keepTail(UnsafeRawBufferPointer(rebasing: bytes[..<filled])) } }
        return reachedEnd
    }

    /// Moves `count` bytes of `fd` to the artifact (or, without one or after it failed, to /dev/null).
    private func move(_ count: Int, from fd: Int32, null: Int32) {
        var left = count
        if let artifact, artifactFailure == nil {
            let (moved, failure) = Self.moveAll(count, from: fd, to: artifact)
            left -= moved
            // A full disk stops the artifact, never the program: the rest goes to /dev/null.
            if let failure { lock.withLock { artifactFailure = KernelError("write \(artifactPath ?? "")", errno: failure.errno) } }
        }
        if left > 0 { _ = Self.moveAll(left, from: fd, to: null) }
    }

    /// splice until `count` bytes moved, an error, or end of file.
    private static func moveAll(_ count: Int, from input: Int32, to output: Int32) -> (moved: Int, failure: KernelError?) {
        var moved = 0
        while moved < count {
            do {
                let step = try Sys.splice(from: input, to: output, length: count - moved)
                if step == 0 { break }
                moved += step
            } catch {
                return (moved, error as? KernelError ?? KernelError("splice", errno: EIO))
            }
        }
        return (moved, nil)
    }

    private func consume(_ chunk: UnsafeRawBufferPointer) {
        if let artifact, artifactFailure == nil {
            do { try Sys.writeAll(artifact, chunk, operation: "write \(artifactPath ?? "")") } catch {
                // A full disk stops the artifact, never the program: its output is still read.
                lock.withLock { artifactFailure = error as? KernelError }
            }
        }
        lock.withLock { buffer.append(chunk) }
        if let splitter, let current = handler {
            var wantsMore = true
            splitter.feed(chunk) { line in
                if wantsMore { wantsMore = current(line) }
            }
            if !wantsMore { handler = nil }
        }
    }

    /// What is kept so far: head, tail, total, cut.
    var kept: KeptOutput {
        lock.withLock { KeptOutput(head: buffer.headBytes, tail: buffer.tailBytes, total: buffer.total, cut: buffer.isCut) }
    }

    /// Why the artifact file is incomplete, if it is.
    var artifactError: KernelError? { lock.withLock { artifactFailure } }
}

/// The kept part of one output stream.
public struct KeptOutput: Sendable, Equatable {
    public let head: [UInt8]
    /// The last bytes after `head`.
    public let tail: [UInt8]
    public let total: Int
    /// Bytes between head and tail were dropped.
    public let cut: Bool

    /// head + tail as text (invalid UTF-8 as U+FFFD); with `cut`, something is missing between.
    public var text: String { String(decoding: head + tail, as: UTF8.self) }
}
