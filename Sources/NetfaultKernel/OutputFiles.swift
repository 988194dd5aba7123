import Foundation
import Glibc

/// Files and directories netfault writes where a user asked: probed before a run the way
/// the write will happen, and written so that a failure keeps its errno.
public enum OutputFiles {
    public enum Kind: Sendable { case file, directory }

    /// Whether `path` can be written as `kind`; throws the errno of the first thing in the
    /// way (ENOENT a missing parent, EISDIR a directory where a file is wanted, ENOTDIR,
    /// EACCES, EROFS). A file is opened for writing without truncation, and one created
    /// for the probe is removed again; a directory may not exist yet (runs create it with
    /// its parents), so its nearest existing ancestor must be a writable directory.
    public static func probe(_ path: String, as kind: Kind) throws {
        switch kind {
        case .file:
            if case .success(S_IFDIR) = Sys.fileType(path) { throw KernelError(path, errno: EISDIR) }
            do {
                // Non-blocking, so a FIFO without a reader yet cannot hang the check (it says ENXIO).
                Sys.close(try Sys.openFile(path, flags: O_WRONLY | O_NONBLOCK, operation: path))
            } catch let error as KernelError where error.errno == ENXIO {
                return
            } catch let error as KernelError where error.errno == ENOENT {
                Sys.close(try Sys.openFile(path, flags: O_WRONLY | O_CREAT | O_EXCL, operation: path))
                Sys.unlink(path)
            }
        case .directory:
            var candidate = path.isEmpty ? "." : path
            while true {
                switch Sys.fileType(candidate) {
                case .success(let type):
                    guard type == S_IFDIR else { throw KernelError(path, errno: ENOTDIR) }
                    try Sys.requireAccess(candidate, W_OK | X_OK, operation: path)
                    return
                case .failure(let error) where error.errno == ENOENT:
                    let parent = (candidate as NSString).deletingLastPathComponent
                    candidate = parent.isEmpty ? "." : parent
                case .failure(let error):
                    throw KernelError(path, errno: error.errno)
                }
            }
        }
    }

    /// `mkdir -p`: errors name the path and errno (ENOTDIR when a file is in the way).
    public static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            try Sys.requireDirectory(prefix, operation: path)
            prefix += "/"
        }
        if case .success(let type) = Sys.fileType(path), type != S_IFDIR { throw KernelError(path, errno: ENOTDIR) }
    }

    /// Writes `data` to `path` (created or truncated). Errors name the path and errno.
    public static func write(_ data: Data, to path: String) throws {
        let file = try OutputFile(path)
        try data.withUnsafeBytes { try file.write($0) }
        try file.close()
    }
}

/// A file written in pieces (a capture can be tens of megabytes), errors keeping their errno.
public final class OutputFile {
    public let path: String
    private var fd: Int32?

    /// Creates or truncates `path`.
    public init(_ path: String) throws {
        self.path = path
        fd = try Sys.openFile(path, flags: O_WRONLY | O_CREAT | O_TRUNC, operation: path)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let fd else { throw KernelError(path, errno: EBADF) }
        try Sys.writeAll(fd, bytes, operation: path)
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Closes it, reporting a late error (a full disk or NFS can say so only here).
    public func close() throws {
        guard let fd else { return }
        self.fd = nil
        try Sys.closeChecked(fd, operation: path)
    }

    deinit {
        if let fd { Sys.close(fd) }
    }
}
