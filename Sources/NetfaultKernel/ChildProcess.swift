import CNetfault
import Foundation
import Glibc

/// What a child process is: a program to exec, or the built-in peer.
public enum ChildProgram: Sendable {
    case executable(path: String, arguments: [String])
    case peer(PeerScript)
}

/// What a child reads on its standard input.
public enum ChildInput: Sendable, Equatable {
    /// /dev/null.
    case none
    /// A file, opened before the child starts.
    case file(String)
    /// Bytes written by a thread of netfault's, then end of file.
    case bytes([UInt8])
}

/// Where a child's output goes besides the kept head and tail.
public struct ChildOutputOptions: Sendable {
    /// A file per stream that receives the complete output as it is read.
    public var artifactPaths: [ChildStream: String]
    /// A handler per stream that sees each line as it is read.
    public var lineHandlers: [ChildStream: LineHandler]

    public init(artifactPaths: [ChildStream: String] = [:], lineHandlers: [ChildStream: LineHandler] = [:]) {
        self.artifactPaths = artifactPaths
        self.lineHandlers = lineHandlers
    }
}

/// A process started inside a namespace. Reader threads take its output as fast as it
/// comes, keeping only the first and last 64 KiB of each stream in memory (and the
/// whole of it in artifact files, when asked).
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    /// CLOCK_MONOTONIC just before the fork: the program started after it, so a run time
    /// measured from here can only read longer than the program ran, never shorter.
    public let startedAt: Int64
    private let lock = NSLock()
    private let recorders: [ChildStream: StreamRecorder]
    private var status: Int32?
    private var endedAt: Int64?
    private let finished = DispatchGroup()

    /// fork → setns → chdir → exec (or run the peer) with stdout and stderr on pipes.
    /// `t0` is the scenario's CLOCK_MONOTONIC start, which peers print times against.
    public init(_ program: ChildProgram, in namespace: NetworkNamespace, environment: [String: String], t0: Int64,
                workingDirectory: String? = nil, input: ChildInput = .none, output: ChildOutputOptions = ChildOutputOptions()) throws {
        var recorders: [ChildStream: StreamRecorder] = [:]
        for stream in ChildStream.allCases {
            recorders[stream] = try StreamRecorder(artifactPath: output.artifactPaths[stream], lines: output.lineHandlers[stream])
        }
        var opened: [Int32] = []
        func closeOpened() { opened.forEach(Sys.close) }
        let out: (read: Int32, write: Int32), err: (read: Int32, write: Int32)
        var stdin: (read: Int32, write: Int32?) = (-1, nil)
        do {
            out = try Sys.pipe(); opened += [out.read, out.write]
            err = try Sys.pipe(); opened += [err.read, err.write]
            switch input {
            case .none: break
            case .file(let path):
                stdin = (try Sys.open(path, forWriting: false), nil); opened.append(stdin.read)
            case .bytes:
                let pipe = try Sys.pipe(); opened += [pipe.read, pipe.write]
                stdin = (pipe.read, pipe.write)
            }
        } catch {
            closeOpened()
            throw error
        }
        let environmentList = environment.map { "\($0.key)=\($0.value)" }.sorted()
        var request = nf_spawn_request()
        request.netns_fd = namespace.fd
        request.stdout_fd = out.write
        request.stderr_fd = err.write
        request.stdin_fd = stdin.read
        request.peer_t0_ns = t0
        let spawned: Result<pid_t, Error>
        let beforeFork = Sys.monotonicNanoseconds()
        switch program {
        case .peer(let script):
            request.peer = script.pointer
            spawned = Result { try Sys.spawn(&request, operation: "start peer in \(namespace.name)") }
        case .executable(let path, let arguments):
            spawned = withCStrings([path] + arguments) { argv in
                withCStrings(environmentList) { envp in
                    withOptionalCString(workingDirectory) { cwd in
                        request.path = UnsafePointer(argv[0])
                        request.argv = UnsafePointer(argv)
                        request.envp = UnsafePointer(envp)
                        request.cwd = cwd
                        return Result { try Sys.spawn(&request, operation: "start \(path) in \(namespace.name)") }
                    }
                }
            }
        }
        Sys.close(out.write)
        Sys.close(err.write)
        if stdin.read >= 0 { Sys.close(stdin.read) }
        switch spawned {
        case .failure(let error):
            Sys.close(out.read); Sys.close(err.read)
            if let writer = stdin.write { Sys.close(writer) }
            throw error
        case .success(let pid):
            do {
                try CleanupRegistry.add(processGroup: pid, listed: { if case .executable = program { true } else { false } }())
            } catch {
                // Untracked, it could outlive a signal: end it now.
                Sys.kill(processGroup: pid, signal: SIGKILL)
                _ = Sys.wait(pid, block: true)
                Sys.close(out.read); Sys.close(err.read)
                if let writer = stdin.write { Sys.close(writer) }
                throw error
            }
            self.pid = pid
        }
        self.recorders = recorders
        startedAt = beforeFork
        recorders[.stdout]!.start(reading: out.read, group: finished)
        recorders[.stderr]!.start(reading: err.read, group: finished)
        if case .bytes(let bytes) = input, let writer = stdin.write {
            Self.feed(bytes, to: writer)
        }
        finished.enter()
        Thread.detachNewThread { [self] in
            let status = Sys.wait(pid, block: true)
            let now = Sys.monotonicNanoseconds()
            // The group may still hold children of the child; they go with it.
            Sys.kill(processGroup: pid, signal: SIGKILL)
            CleanupRegistry.remove(processGroup: pid)
            lock.withLock {
                self.status = status
                endedAt = now
            }
            finished.leave()
        }
    }

    /// Writes the input on a thread of its own (the child may read it slowly, or never: then
    /// the write fails with EPIPE when it exits), and closes the pipe for end of file.
    private static func feed(_ bytes: [UInt8], to fd: Int32) {
        Thread.detachNewThread {
            Sys.blockBrokenPipeSignal()
            bytes.withUnsafeBytes { try? Sys.writeAll(fd, $0, operation: "write standard input") }
            Sys.close(fd)
        }
    }

    /// The kept part of a stream (complete until it passes 128 KiB).
    public func output(_ stream: ChildStream) -> KeptOutput { recorders[stream]!.kept }
    /// Why a stream's artifact file is incomplete (a write failed), if it is.
    public func artifactError(_ stream: ChildStream) -> KernelError? { recorders[stream]!.artifactError }

    /// The kept stdout as text: all of it for small outputs.
    public var standardOutput: String { output(.stdout).text }
    public var standardError: String { output(.stderr).text }
    /// The raw wait status once the process has ended.
    public var waitStatus: Int32? { lock.withLock { status } }
    public var endedAtNanoseconds: Int64? { lock.withLock { endedAt } }
    public var isRunning: Bool { waitStatus == nil }

    /// Waits until the process has ended and its output is read; false on timeout.
    public func wait(timeoutSeconds: Double) -> Bool {
        finished.wait(timeout: .now() + timeoutSeconds) == .success
    }

    /// SIGTERM to the process group, then SIGKILL after `grace` seconds.
    public func terminate(grace: Double = 0.5) {
        guard isRunning else { _ = wait(timeoutSeconds: 1); return }
        Sys.kill(processGroup: pid, signal: SIGTERM)
        if !wait(timeoutSeconds: grace) {
            Sys.kill(processGroup: pid, signal: SIGKILL)
            _ = wait(timeoutSeconds: 5)
        }
    }

    /// Exit code, or 128 + signal number for a signalled process (as shells report it).
    public static func exitCode(fromWaitStatus status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    /// "exit status 1", "killed by SIGSEGV" (what a person reads in a failure).
    public static func describe(waitStatus status: Int32) -> String {
        let signal = status & 0x7F
        guard signal != 0 else { return "exit status \((status >> 8) & 0xFF)" }
        let names: [Int32: String] = [SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL",
                                      SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE",
                                      SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGPIPE: "SIGPIPE", SIGTERM: "SIGTERM"]
        return "killed by " + (names[signal] ?? "signal \(signal)")
    }
}

/// Finds a program the way execvp would, so a missing one is an error before anything is built.
public enum ExecutableLookup {
    public static func resolve(_ command: String, path: String? = nil) -> String? {
        if command.contains("/") { return Sys.isExecutable(command) ? command : nil }
        let searchPath = path ?? Sys.environment()["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in searchPath.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(command)"
            if Sys.isExecutable(candidate) { return candidate }
        }
        return nil
    }
}
