import CNetfault
import Foundation
import Glibc

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

/// What a child process is: a program to exec, or the built-in peer.
public enum ChildProgram: Sendable {
    case executable(path: String, arguments: [String])
    case peer(PeerScript)
}

/// A process started inside a namespace, its output collected by reader threads.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let startedAt: Int64
    private let lock = NSLock()
    private var stdoutBytes: [UInt8] = []
    private var stderrBytes: [UInt8] = []
    private var status: Int32?
    private var endedAt: Int64?
    private let finished = DispatchGroup()

    /// fork → setns → exec (or run the peer) with stdout and stderr on pipes.
    /// `t0` is the scenario's CLOCK_MONOTONIC start, which peers print times against.
    public init(_ program: ChildProgram, in namespace: NetworkNamespace, environment: [String: String], t0: Int64) throws {
        let out = try Sys.pipe()
        let err: (read: Int32, write: Int32)
        do { err = try Sys.pipe() } catch {
            Sys.close(out.read); Sys.close(out.write)
            throw error
        }
        let environmentList = environment.map { "\($0.key)=\($0.value)" }.sorted()
        var request = nf_spawn_request()
        request.netns_fd = namespace.fd
        request.stdout_fd = out.write
        request.stderr_fd = err.write
        request.peer_t0_ns = t0
        let spawned: Result<pid_t, Error>
        switch program {
        case .peer(let script):
            request.peer = script.pointer
            spawned = Result { try Sys.spawn(&request, operation: "start peer in \(namespace.name)") }
        case .executable(let path, let arguments):
            spawned = withCStrings([path] + arguments) { argv in
                withCStrings(environmentList) { envp in
                    request.path = UnsafePointer(argv[0])
                    request.argv = UnsafePointer(argv)
                    request.envp = UnsafePointer(envp)
                    return Result { try Sys.spawn(&request, operation: "start \(path) in \(namespace.name)") }
                }
            }
        }
        Sys.close(out.write)
        Sys.close(err.write)
        switch spawned {
        case .failure(let error):
            Sys.close(out.read); Sys.close(err.read)
            throw error
        case .success(let pid):
            do {
                try CleanupRegistry.add(processGroup: pid, listed: { if case .executable = program { true } else { false } }())
            } catch {
                // Untracked, it could outlive a signal: end it now.
                Sys.kill(processGroup: pid, signal: SIGKILL)
                _ = Sys.wait(pid, block: true)
                Sys.close(out.read); Sys.close(err.read)
                throw error
            }
            self.pid = pid
        }
        startedAt = Sys.monotonicNanoseconds()
        collect(out.read) { self.stdoutBytes += $0 }
        collect(err.read) { self.stderrBytes += $0 }
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

    private func collect(_ fd: Int32, append: @escaping @Sendable ([UInt8]) -> Void) {
        finished.enter()
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = Sys.read(fd, into: &buffer)
                if count == 0 { break }
                let chunk = Array(buffer[0..<count])
                lock.withLock { append(chunk) }
            }
            Sys.close(fd)
            finished.leave()
        }
    }

    public var standardOutput: String { lock.withLock { String(decoding: stdoutBytes, as: UTF8.self) } }
    public var standardError: String { lock.withLock { String(decoding: stderrBytes, as: UTF8.self) } }
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
