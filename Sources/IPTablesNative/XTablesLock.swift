import Foundation

/// How native writes serialise with every other x_tables writer (`iptables-legacy -w`,
/// `iptables-legacy-restore`, another Firebreak).
public enum IPTLocking: Sendable, Equatable {
  /// Take the xtables lock (`flock` on `/run/xtables.lock`, as iptables-legacy does), waiting
  /// at most this many seconds.
  case acquire(timeout: Double)
  /// The caller already holds the xtables lock (for example around a longer read-modify-write).
  case heldByCaller
}

/// The xtables lock: an exclusive `flock` on a well-known file, held from `iptc_init` to
/// `iptc_commit`, because libiptc has no compare-and-swap and a stale handle loses updates.
///
/// Equivalent to what `iptables-legacy -w SECONDS` takes before touching the kernel.
public final class XTablesLock {
  /// The lock file iptables-legacy uses.
  public static let defaultPath = "/run/xtables.lock"

  private let fd: Int32

  /// Takes the lock, polling every 10 ms until `timeout` seconds have passed. Released by `unlock()`
  /// or when the object goes away.
  public init(path: String = XTablesLock.defaultPath, timeout: Double) throws(IPTablesNativeError) {
    let fd = open(path, O_CREAT | O_RDONLY | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw .lockFailed(path: path, errno: errno) }
    let deadline = Date().addingTimeInterval(timeout)
    while flock(fd, LOCK_EX | LOCK_NB) != 0 {
      let code = errno
      guard code == EWOULDBLOCK || code == EINTR else {
        close(fd)
        throw .lockFailed(path: path, errno: code)
      }
      guard Date() < deadline else {
        close(fd)
        throw .lockTimeout(path: path, seconds: timeout)
      }
      usleep(10_000)
    }
    self.fd = fd
  }

  /// Releases the lock.
  public func unlock() { flock(fd, LOCK_UN) }

  deinit { close(fd) }
}
