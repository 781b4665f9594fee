#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where a command writes: real stdout/stderr in the tool, strings in tests.
public final class Console: @unchecked Sendable {
  public private(set) var out = ""
  public private(set) var err = ""
  let capture: Bool

  /// A console that captures output (tests).
  public static func capturing() -> Console { Console(capture: true) }
  /// The process's stdout and stderr.
  public static func standard() -> Console { Console(capture: false) }

  init(capture: Bool) { self.capture = capture }

  /// True when stdout is a terminal (for colour).
  public var isTerminal: Bool { !capture && isatty(1) != 0 }

  public func print(_ text: String, terminator: String = "\n") {
    if capture { out += text + terminator } else { Console.write(text + terminator, to: 1) }
  }

  public func error(_ text: String, terminator: String = "\n") {
    if capture { err += text + terminator } else { Console.write(text + terminator, to: 2) }
  }

  /// Writes all of `text` to a file descriptor (unbuffered, so stdout and stderr interleave in order).
  static func write(_ text: String, to fd: Int32) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      if n <= 0 { return }
      offset += n
    }
  }
}

/// Files, through libc (no Foundation needed in the CLI).
enum Files {
  /// Writes `text` to `path` atomically: a temporary file in the same directory, fsync, rename.
  static func writeAtomically(_ text: String, to path: String) throws {
    let tmp = path + ".firebreak-tmp-\(getpid())"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw FileError(path: path, errno: errno, operation: "create") }
    var ok = true
    let bytes = Array(text.utf8)
    var written = 0
    while written < bytes.count {
      let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      if n <= 0 {
        ok = false
        break
      }
      written += n
    }
    let savedErrno = errno
    if ok && fsync(fd) != 0 { ok = false }
    close(fd)
    guard ok else {
      unlink(tmp)
      throw FileError(path: path, errno: savedErrno, operation: "write")
    }
    guard rename(tmp, path) == 0 else {
      let e = errno
      unlink(tmp)
      throw FileError(path: path, errno: e, operation: "rename into place")
    }
  }
}

/// A file operation that failed, with the errno text.
struct FileError: Error, CustomStringConvertible {
  var path: String
  var errno: Int32
  var operation: String
  var description: String {
    "cannot \(operation) \(path): \(String(cString: strerror(errno)))"
  }
}
