import Foundation
import Testing

/// Output options are checked before anything runs: a bad path is bad usage (exit 2) naming
/// the option, the path and the errno; a write that fails after a run is the machine's (exit 3).
@Suite struct OutputPathTests {
    @Test func runWithAJSONFileInAMissingDirectoryExits2BeforeRunning() throws {
        let result = try CLI.run(["run", "H1", "--json", "/nonexistent/dir/x.json"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("--json /nonexistent/dir/x.json: No such file or directory (ENOENT)"), "\(result)")
        #expect(!result.stderr.contains("NSCocoaErrorDomain"))
        // A run prints its summary on stdout; refused at parsing, nothing was built or ran.
        #expect(result.stdout.isEmpty, "no scenario ran: \(result)")
    }

    @Test func aDirectoryWhereAFileIsWantedIsEISDIR() throws {
        let result = try CLI.run(["run", "H1", "--html", FileManager.default.temporaryDirectory.path])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("--html \(FileManager.default.temporaryDirectory.path): Is a directory (EISDIR)"), "\(result)")
    }

    @Test func aPcapDirectoryUnderAFileIsENOTDIRAndEveryBadOptionIsNamed() throws {
        let file = CLI.temporaryFile("plain")
        try Data("x".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try CLI.run(["run", "H1", "--pcap", file.path + "/captures", "--junit", "/nonexistent/j.xml"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("--pcap \(file.path)/captures: Not a directory (ENOTDIR)"), "\(result)")
        #expect(result.stderr.contains("--junit /nonexistent/j.xml: No such file or directory (ENOENT)"), "\(result)")
    }

    /// As nobody (setpriv drops root), a root-owned 0755 directory is not writable: EACCES for a
    /// file in it and for a capture directory under it, before the missing privileges are noticed.
    @Test(.enabled(if: isRoot && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs root and setpriv"))
    func aDirectoryNotWritableIsEACCES() throws {
        let directory = CLI.temporaryFile("readonly")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CLI.run(["run", "H1", "--json", directory.path + "/x.json", "--pcap", directory.path + "/captures"],
                                 wrapper: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("--json \(directory.path)/x.json: Permission denied (EACCES)"), "\(result)")
        #expect(result.stderr.contains("--pcap \(directory.path)/captures: Permission denied (EACCES)"), "\(result)")
    }

    @Test func aPcapDirectoryNotYetMadeIsFineAndTheProbeLeavesNothing() throws {
        let directory = CLI.temporaryFile("pcaps")
        let json = directory.appendingPathComponent("x.json")
        // The outputs are checked first, then --parallel 0 is refused: nothing runs, the outputs were accepted.
        let accepted = try CLI.run(["run", "H1", "--pcap", directory.path + "/a/b", "--parallel", "0"])
        #expect(accepted.status == 2 && accepted.stderr.contains("--parallel") && !accepted.stderr.contains("--pcap \(directory.path)"), "\(accepted)")
        #expect(!FileManager.default.fileExists(atPath: directory.path))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let probed = try CLI.run(["run", "H1", "--json", json.path, "--parallel", "0"])
        #expect(probed.status == 2 && !probed.stderr.contains("--json \(json.path)"), "\(probed)")
        #expect(!FileManager.default.fileExists(atPath: json.path), "the probe removed the file it created")
    }

    @Test func reportAndBenchCheckTheirOutputsToo() throws {
        let report = try CLI.run(["report", "/nonexistent/run.json", "--html", "/nonexistent/r.html"])
        #expect(report.status == 2, "\(report)")
        #expect(report.stderr.contains("--html /nonexistent/r.html: No such file or directory (ENOENT)"), "\(report)")
        for bench in ["topology", "faults", "timeline", "output", "observation"] {
            let result = try CLI.run(["bench", bench, "--json", "/nonexistent/b.json"])
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains("--json /nonexistent/b.json: No such file or directory (ENOENT)"), "\(bench): \(result)")
        }
    }

    /// /dev/full opens for writing and then fails every write with ENOSPC: a disk full
    /// after the run, which is the machine's failure, not an expectation's.
    @Test(.enabled(if: isRoot, "needs root"), .timeLimit(.minutes(1)))
    func aWriteFailingAfterTheRunExits3WithTheErrno() throws {
        let result = try CLI.run(["run", "K6", "--json", "/dev/full"])
        #expect(result.status == 3, "\(result)")
        #expect(result.stdout.contains("K6"), "the run happened: \(result)")
        #expect(result.stderr.contains("netfault: cannot write --json /dev/full: No space left on device (ENOSPC)"), "\(result)")
        #expect(!result.stderr.contains("NSCocoaErrorDomain"))
    }
}
