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
                memory.deallocate()
                size = Self.largestRead
                memory = .allocate(byteCount: size, alignment: 16)
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
