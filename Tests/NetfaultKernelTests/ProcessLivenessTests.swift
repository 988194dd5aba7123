import Glibc
import Testing
@testable import NetfaultKernel

/// `netfault cleanup` must treat an orchestrator killed with SIGKILL as gone even while it is
/// an unreaped zombie (seen: the first cleanup after the kill said "nothing to remove").
@Suite struct ProcessLivenessTests {
    @Test func aZombieIsNotRunning() throws {
        var pid: pid_t = 0
        let program = strdup("/bin/true")
        defer { free(program) }
        var argv: [UnsafeMutablePointer<CChar>?] = [program, nil]
        #expect(posix_spawn(&pid, "/bin/true", nil, nil, &argv, nil) == 0)
        #expect(Sys.processIsRunning(Sys.processID()))
        for _ in 0..<400 where Sys.processIsRunning(pid) { usleep(5_000) }
        #expect(!Sys.processIsRunning(pid))
        #expect(kill(pid, 0) == 0, "not reaped yet: it still exists, as a zombie")
        var status: Int32 = 0
        #expect(waitpid(pid, &status, 0) == pid)
        #expect(!Sys.processIsRunning(pid))
    }
}
