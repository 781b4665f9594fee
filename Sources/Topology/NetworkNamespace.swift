import CNftnl
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Named network namespaces, kept the way iproute2 keeps them: a bind mount of the namespace
/// under `/run/netns/NAME`, so `ip netns exec NAME …` works on the ones Firebreak creates.
public enum NetworkNamespace {
  public static let directory = "/run/netns"

  public static func path(_ name: String) -> String { "\(directory)/\(name)" }

  /// True when `/run/netns/NAME` is a mounted namespace.
  public static func exists(_ name: String) -> Bool {
    // An unmounted placeholder file is not a namespace: entering it (on a namespace thread) fails.
    (try? run(in: name) { true }) ?? false
  }

  /// The names under `/run/netns`.
  public static func list() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
  }

  /// Creates a namespace. Equivalent to `ip netns add NAME`.
  public static func create(_ name: String) throws {
    try prepareDirectory()
    let file = path(name)
    let fd = open(file, O_RDONLY | O_CREAT | O_EXCL, 0)
    guard fd >= 0 else { throw NetlinkError(errno: errno, operation: "create namespace", object: name) }
    close(fd)
    // unshare() applies to the calling thread only: do it on a thread of its own, publish the new
    // namespace with a bind mount, and let the thread end.
    final class Outcome: @unchecked Sendable { var failure: NetlinkError? }
    let outcome = Outcome()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
      defer { done.signal() }
      guard fb_unshare_net() == 0 else {
        outcome.failure = NetlinkError(errno: errno, operation: "create namespace", object: name)
        return
      }
      let source = "/proc/self/task/\(fb_gettid())/ns/net"
      if mount(source, file, "none", fb_ms_bind(), nil) != 0 {
        outcome.failure = NetlinkError(errno: errno, operation: "mount namespace", object: name)
      }
    }
    thread.start()
    done.wait()
    let failure = outcome.failure
    if let failure {
      unlink(file)
      throw failure
    }
  }

  /// Deletes a namespace: its links go with it. Equivalent to `ip netns del NAME`.
  public static func delete(_ name: String) throws {
    let file = path(name)
    if umount2(file, fb_mnt_detach()) != 0 && errno != EINVAL && errno != ENOENT {
      throw NetlinkError(errno: errno, operation: "unmount namespace", object: name)
    }
    if unlink(file) != 0 && errno != ENOENT {
      throw NetlinkError(errno: errno, operation: "delete namespace", object: name)
    }
  }

  /// `/run/netns` as iproute2 makes it: a directory that is a shared mount point, so namespaces
  /// mounted there are visible to every mount namespace.
  static func prepareDirectory() throws {
    if mkdir(directory, 0o755) != 0 && errno != EEXIST {
      throw NetlinkError(errno: errno, operation: "create", object: directory)
    }
    if mount("", directory, "none", fb_ms_shared_rec(), nil) == 0 { return }
    guard errno == EINVAL else { return }
    // Not a mount point yet: bind it onto itself, then share it.
    if mount(directory, directory, "none", fb_ms_bind() | UInt(MS_REC), nil) == 0 {
      _ = mount("", directory, "none", fb_ms_shared_rec(), nil)
    }
  }

  /// Runs `body` inside namespace `name` on a dedicated thread (namespaces are per thread), and
  /// waits for it; the caller's thread never changes namespace. Equivalent to `ip netns exec NAME`
  /// for one call. Sockets opened in `body` stay in that namespace.
  public static func run<T>(in name: String, _ body: @escaping () throws -> T) throws -> T {
    let fd = open(path(name), O_RDONLY)
    guard fd >= 0 else { throw NetlinkError(errno: errno, operation: "open namespace", object: name) }
    defer { close(fd) }
    let box = NamespaceCall<T>()
    let work = NamespaceWork(body)
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
      defer { done.signal() }
      let entered: Bool? = withEntered(fd: fd) {
        box.result = Result { try work.run() }
        return true
      }
      box.entered = entered ?? false
      if !box.entered { box.enterErrno = errno }
    }
    thread.start()
    done.wait()
    guard box.entered, let result = box.result else {
      throw NetlinkError(errno: box.enterErrno, operation: "enter namespace", object: name)
    }
    return try result.get()
  }

  /// Enters the namespace behind `fd` on this thread, runs `body`, returns home; nil if entering failed.
  static func withEntered<T>(fd: Int32, _ body: () -> T) -> T? {
    let home = open("/proc/thread-self/ns/net", O_RDONLY)
    guard home >= 0 else { return nil }
    defer { close(home) }
    guard fb_setns_net(fd) == 0 else { return nil }
    let value = body()
    // Returning home cannot be allowed to fail silently: this thread would act in the wrong namespace.
    precondition(fb_setns_net(home) == 0, "cannot return to the original network namespace")
    return value
  }
}

/// The result of a call run in a namespace's thread (handed back across threads once, after the
/// thread signalled it is done).
final class NamespaceCall<T>: @unchecked Sendable {
  var result: Result<T, Error>?
  var entered = false
  var enterErrno: Int32 = 0
}

/// The body of such a call.
final class NamespaceWork<T>: @unchecked Sendable {
  let run: () throws -> T
  init(_ run: @escaping () throws -> T) { self.run = run }
}
