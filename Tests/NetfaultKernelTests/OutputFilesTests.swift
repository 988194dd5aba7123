import Foundation
import Testing
@testable import NetfaultKernel

/// `--pcap DIR` is made with its parents; what is in the way is named with its errno.
@Suite struct OutputDirectoryTests {
    @Test func makesParentsAndAcceptsWhatExists() throws {
        let base = NSTemporaryDirectory() + "netfault-dirs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: base) }
        try OutputFiles.makeDirectories(base + "/a/b/H2")
        try OutputFiles.makeDirectories(base + "/a/b/H2")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: base + "/a/b/H2", isDirectory: &isDirectory) && isDirectory.boolValue)
        _ = FileManager.default.createFile(atPath: base + "/file", contents: Data())
        #expect(throws: KernelError(base + "/file/H2", errno: ENOTDIR)) { try OutputFiles.makeDirectories(base + "/file/H2") }
        #expect(throws: KernelError(base + "/file", errno: ENOTDIR)) { try OutputFiles.makeDirectories(base + "/file") }
    }
}
