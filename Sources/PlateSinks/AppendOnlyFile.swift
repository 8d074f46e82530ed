import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One file opened for appending: never truncated, each `append` is one `write(2)` straight to the kernel.
///
/// Why raw `write(2)` rather than `FileHandle`/`FILE*`: nothing is buffered in the process, so a line that
/// `append` returned for survives a crash or SIGKILL of PlateStream (the kernel has it); `O_APPEND` makes each
/// write land at the end even when another writer appends to the same file.
final class AppendOnlyFile {
    let path: String
    private let descriptor: Int32
    /// Whether nothing is in the file yet (a CSV sink writes its header first then).
    private(set) var isEmpty: Bool
    /// A failed append left part of a record that could not be cut off: the next one starts on a new line.
    private var tornTail = false

    /// Opens (creating the file and its directories) for appending. When the file does not end with a
    /// newline, which only a crash in the middle of a write leaves, one is added so the next record starts
    /// on its own line.
    init(path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw SinkError.io("cannot create directory (\(error.localizedDescription))", path: directory)
            }
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SinkError.io("cannot open", path: path, errno: errno) }
        self.path = path
        self.descriptor = fd
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw SinkError.io("cannot stat", path: path, errno: code)
        }
        isEmpty = info.st_size == 0
        if !isEmpty && !Self.endsWithNewline(path: path, size: Int64(info.st_size)) {
            try append(Array("\n".utf8))
        }
    }

    deinit { close(descriptor) }

    /// Appends the bytes with as few `write` calls as the kernel allows (one, for a regular file). When the
    /// write fails part-way (a full disk), the part written is removed again before the error is thrown.
    func append(_ bytes: [UInt8]) throws {
        if tornTail {
            try writeWhole(Array("\n".utf8))
            tornTail = false
        }
        try writeWhole(bytes)
    }

    private func writeWhole(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    let code = errno
                    if offset > 0 { removeTornTail(offset) }
                    throw SinkError.io("cannot write", path: path, errno: code)
                }
                offset += written
            }
        }
        if !bytes.isEmpty { isEmpty = false }
    }

    /// Cuts off the `count` bytes a failed append left at the end (a full disk takes part of a record), so the
    /// next record does not glue onto half of this one. When even that fails, the next append starts with a
    /// newline instead, leaving the torn record on a line of its own.
    private func removeTornTail(_ count: Int) {
        var info = stat()
        if fstat(descriptor, &info) == 0, info.st_size >= count, ftruncate(descriptor, info.st_size - off_t(count)) == 0 { return }
        tornTail = true
    }

    /// Forces the written bytes to the disk (`fsync`), for power-loss durability.
    func sync() throws {
        guard fsync(descriptor) == 0 else { throw SinkError.io("cannot fsync", path: path, errno: errno) }
    }

    private static func endsWithNewline(path: String, size: Int64) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var last: UInt8 = 0
        return pread(fd, &last, 1, off_t(size - 1)) == 1 ? last == UInt8(ascii: "\n") : true
    }
}
