import Glibc
import Testing
@testable import NetfaultKernel

@Suite struct ChildProcessPureTests {
    @Test func exitCodeFromWaitStatus() {
        #expect(ChildProcess.exitCode(fromWaitStatus: 0) == 0)
        #expect(ChildProcess.exitCode(fromWaitStatus: 3 << 8) == 3)
        #expect(ChildProcess.exitCode(fromWaitStatus: 255 << 8) == 255)
        #expect(ChildProcess.exitCode(fromWaitStatus: SIGTERM) == 143)
        #expect(ChildProcess.exitCode(fromWaitStatus: SIGKILL) == 137)
        #expect(ChildProcess.exitCode(fromWaitStatus: 0x80 | SIGSEGV) == 139)  // WCOREDUMP bit ignored
        #expect(ChildProcess.exitCode(fromWaitStatus: 1 << 8 | 0) == 1)
    }

    @Test func executableLookup() {
        let sh = ExecutableLookup.resolve("sh")
        #expect(sh == "/usr/bin/sh" || sh == "/bin/sh", "\(sh ?? "nil")")
        #expect(ExecutableLookup.resolve("sh", path: "/nfkt-nowhere::/bin") == "/bin/sh")
        #expect(ExecutableLookup.resolve("sh", path: "/nfkt-nowhere") == nil)
        #expect(ExecutableLookup.resolve("nfkt-no-such-program-7f3a") == nil)
        // With a slash the path is taken as is, if it is executable.
        #expect(ExecutableLookup.resolve("/bin/sh") == "/bin/sh")
        #expect(ExecutableLookup.resolve("/etc/passwd") == nil)
        #expect(ExecutableLookup.resolve("./nfkt-no-such-program") == nil)
    }
}

@Suite(.enabled(if: KT.canManageNetworks, KT.needsRoot))
struct ChildProcessKernelTests {
    @Test func echoCapturesStdoutAndExitZero() throws {
        try KT.leavesNoTrace {
            let ns = try NetworkNamespace(name: "nfkt-echo")
            let child = try ChildProcess(.executable(path: "/bin/echo", arguments: ["hi"]), in: ns,
                                         environment: [:], t0: MonotonicClock.now())
            #expect(child.pid > 0)
            #expect(child.wait(timeoutSeconds: 5))
            #expect(child.standardOutput == "hi\n")
            #expect(child.standardError == "")
            #expect(!child.isRunning)
            let status = try #require(child.waitStatus)
            #expect(ChildProcess.exitCode(fromWaitStatus: status) == 0)
            let ended = try #require(child.endedAtNanoseconds)
            #expect(ended >= child.startedAt)
        }
    }

    @Test func stderrExitCodeAndEnvironment() throws {
        try KT.leavesNoTrace {
            let ns = try NetworkNamespace(name: "nfkt-sh")
            let child = try ChildProcess(.executable(path: "/bin/sh", arguments: ["-c", "echo \"$NFKT_WORD\"; echo oops >&2; exit 3"]),
                                         in: ns, environment: ["NFKT_WORD": "from-env"], t0: MonotonicClock.now())
            #expect(child.wait(timeoutSeconds: 5))
            #expect(child.standardOutput == "from-env\n")
            #expect(child.standardError == "oops\n")
            #expect(child.waitStatus.map(ChildProcess.exitCode(fromWaitStatus:)) == 3)
        }
    }

    /// The child runs inside the namespace: its /proc/self/net/dev shows only lo.
    @Test func childRunsInsideTheNamespace() throws {
        try KT.leavesNoTrace {
            let ns = try NetworkNamespace(name: "nfkt-cat")
            let child = try ChildProcess(.executable(path: "/bin/cat", arguments: ["/proc/self/net/dev"]), in: ns,
                                         environment: [:], t0: MonotonicClock.now())
            #expect(child.wait(timeoutSeconds: 5))
            #expect(KT.interfaces(ofNetDev: child.standardOutput) == ["lo"], "\(child.standardOutput)")
            #expect(KT.interfaces(ofNetDev: MachineInfo.readFile("/proc/self/net/dev") ?? "") != ["lo"])
        }
    }

    @Test func missingProgramThrowsENOENTFromExec() throws {
        try KT.leavesNoTrace {
            let ns = try NetworkNamespace(name: "nfkt-missing")
            do {
                _ = try ChildProcess(.executable(path: "/nfkt-nowhere/program", arguments: []), in: ns,
                                     environment: [:], t0: MonotonicClock.now())
                Issue.record("a missing program started")
            } catch let error as KernelError {
                #expect(error.errno == ENOENT, "\(error)")
                #expect(error.errnoName == "ENOENT")
                #expect(error.operation.contains("/nfkt-nowhere/program"), "\(error)")
            }
        }
    }

    @Test func nonExecutableFileThrowsEACCES() throws {
        try KT.leavesNoTrace {
            let ns = try NetworkNamespace(name: "nfkt-noexec")
            #expect(throws: KernelError("start /etc/passwd in nfkt-noexec", errno: EACCES)) {
                try ChildProcess(.executable(path: "/etc/passwd", arguments: []), in: ns, environment: [:], t0: 0)
            }
        }
    }

    @Test func terminateEndsSleepWithinASecond() throws {
        try KT.leavesNoTrace {
            let ns = try NetworkNamespace(name: "nfkt-sleep")
            let child = try ChildProcess(.executable(path: "/bin/sleep", arguments: ["30"]), in: ns,
                                         environment: [:], t0: MonotonicClock.now())
            #expect(child.isRunning)
            #expect(!child.wait(timeoutSeconds: 0.05), "sleep 30 ended by itself")
            let start = MonotonicClock.now()
            child.terminate()
            let seconds = Double(MonotonicClock.now() - start) / 1e9
            #expect(seconds < 1, "terminate took \(seconds) s")
            #expect(!child.isRunning)
            #expect(child.waitStatus.map(ChildProcess.exitCode(fromWaitStatus:)) == 143)  // 128 + SIGTERM
            #expect(!Sys.processIsRunning(child.pid))
            // A second terminate of an ended process is harmless.
            child.terminate()
            #expect(child.waitStatus.map(ChildProcess.exitCode(fromWaitStatus:)) == 143)
        }
    }

    @Test func terminateFallsBackToSIGKILL() throws {
        try KT.leavesNoTrace {
            let ns = try NetworkNamespace(name: "nfkt-trap")
            let child = try ChildProcess(.executable(path: "/bin/sh", arguments: ["-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"]),
                                         in: ns, environment: [:], t0: MonotonicClock.now())
            #expect(KT.eventually { child.standardOutput == "ready\n" })
            child.terminate(grace: 0.1)
            #expect(child.waitStatus.map(ChildProcess.exitCode(fromWaitStatus:)) == 128 + SIGKILL)
        }
    }

    @Test func peerExitStatusAndEvents() throws {
        try KT.leavesNoTrace {
            let ns = try NetworkNamespace(name: "nfkt-peer")
            let child = try ChildProcess(.peer(PeerScript(["exit", "7"])), in: ns, environment: [:], t0: MonotonicClock.now())
            #expect(child.wait(timeoutSeconds: 5))
            #expect(child.waitStatus.map(ChildProcess.exitCode(fromWaitStatus:)) == 7)
            let lines = child.standardOutput.split(separator: "\n")
            #expect(lines.first?.contains("\"call\":\"start\"") == true, "\(child.standardOutput)")
            #expect(lines.last?.contains("\"call\":\"exit\"") == true, "\(child.standardOutput)")
        }
    }
}
