import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Files that are either wholly old or wholly new, whatever moment the process dies at: written
/// to a temporary name, flushed to disk, renamed over the target, and the directory flushed too.
enum AtomicFile {
  /// A failed file operation, naming the file and the errno.
  struct Failure: Error, CustomStringConvertible {
    var operation: String
    var path: String
    var errno: Int32
    var description: String { "cannot \(operation) \(path): \(String(cString: strerror(errno)))" }
  }

  /// Temporary files carry this infix; readers ignore them and `sweep` removes leftovers.
  static let temporaryInfix = ".tmp-"

  /// Writes `data` to `path` atomically with `mode` (0600: rulesets and policies are private).
  static func write(_ data: Data, to path: String, mode: mode_t = 0o600) throws {
    let temporary = path + temporaryInfix + String(getpid())
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    guard fd >= 0 else { throw Failure(operation: "create", path: temporary, errno: errno) }
    var failure: Failure?
    data.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          failure = Failure(operation: "write", path: temporary, errno: errno)
          return
        }
        offset += n
      }
    }
    if failure == nil && fsync(fd) != 0 { failure = Failure(operation: "flush", path: temporary, errno: errno) }
    close(fd)
    if let failure {
      unlink(temporary)
      throw failure
    }
    guard rename(temporary, path) == 0 else {
      let e = errno
      unlink(temporary)
      throw Failure(operation: "rename into place", path: path, errno: e)
    }
    syncDirectory(of: path)
  }

  /// Flushes the directory entry of `path` (so the rename survives a crash).
  static func syncDirectory(of path: String) {
    let directory = (path as NSString).deletingLastPathComponent
    let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return }
    fsync(fd)
    close(fd)
  }

  /// The contents of `path`, nil when it does not exist.
  static func read(_ path: String) throws -> Data? {
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw Failure(operation: "read", path: path, errno: errno)
    }
    return data
  }

  /// Removes temporary files a killed writer left in `directory`.
  static func sweep(_ directory: String) {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    for name in names where name.contains(temporaryInfix) {
      unlink(directory + "/" + name)
    }
  }

  /// Creates `path` and its parents with mode 0700 when missing.
  static func makeDirectory(_ path: String) throws {
    var current = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
      current += "/" + part
      if mkdir(current, 0o700) != 0 && errno != EEXIST {
        throw Failure(operation: "create directory", path: current, errno: errno)
      }
    }
  }
}
