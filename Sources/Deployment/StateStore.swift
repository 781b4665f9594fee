import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A namespace's saved state on disk (default `/var/lib/firebreak/<netns>`):
///
///     generations/<n>.json   one generation each, written once, atomically (mode 0600)
///     current.json           the current generation, confirmation, journal, events (atomic)
///     lock                   flock(2): one command at a time changes the kernel or the state
///     watchdog.log           what a confirm watchdog did
public struct StateStore: Sendable {
  public let directory: String

  public init(directory: String) { self.directory = directory }

  /// The default directory for a namespace (`default` for the current one).
  public static func defaultDirectory(netns: String?) -> String {
    "/var/lib/firebreak/" + (netns ?? "default")
  }

  var generationsDirectory: String { directory + "/generations" }
  var statePath: String { directory + "/current.json" }
  var lockPath: String { directory + "/lock" }
  public var watchdogLogPath: String { directory + "/watchdog.log" }

  /// Creates the directories (0700) and removes what a killed writer left half-written.
  func prepare() throws {
    try AtomicFile.makeDirectory(generationsDirectory)
    AtomicFile.sweep(directory)
    AtomicFile.sweep(generationsDirectory)
  }

  /// Dates as ISO 8601 with milliseconds (a confirm deadline must not move by truncation).
  static let encoder: JSONEncoder = {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    e.dateEncodingStrategy = .custom { date, encoder in
      var c = encoder.singleValueContainer()
      try c.encode(StateStore.preciseDates().string(from: date))
    }
    return e
  }()

  static let decoder: JSONDecoder = {
    let d = JSONDecoder()
    d.dateDecodingStrategy = .custom { decoder in
      let c = try decoder.singleValueContainer()
      let text = try c.decode(String.self)
      guard let date = StateStore.preciseDates().date(from: text) ?? ISO8601DateFormatter().date(from: text) else {
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an ISO 8601 date: \(text)")
      }
      return date
    }
    return d
  }()

  static func preciseDates() -> ISO8601DateFormatter {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f
  }

  func path(ofGeneration n: Int) -> String { generationsDirectory + "/" + String(format: "%06d.json", n) }

  /// The generation numbers on disk, ascending.
  public func generationNumbers() -> [Int] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: generationsDirectory)) ?? []
    return names.compactMap { name -> Int? in
      guard name.hasSuffix(".json"), !name.contains(AtomicFile.temporaryInfix) else { return nil }
      return Int(name.dropLast(5))
    }.sorted()
  }

  public func generation(_ n: Int) throws -> Generation { try decodeGeneration(n) }

  /// Generation `n`'s header only.
  public func summary(_ n: Int) throws -> GenerationSummary { try decodeGeneration(n) }

  /// Generation `n`'s file decoded as `T` (the whole generation, or just its header).
  func decodeGeneration<T: Decodable>(_ n: Int) throws -> T {
    guard let data = try AtomicFile.read(path(ofGeneration: n)) else { throw StateError.noGeneration(n) }
    do {
      return try StateStore.decoder.decode(T.self, from: data)
    } catch {
      throw StateError.corrupt(path(ofGeneration: n), "\(error)")
    }
  }

  func write(_ generation: Generation) throws {
    try AtomicFile.write(try StateStore.encoder.encode(generation), to: path(ofGeneration: generation.number))
  }

  /// The current state, nil before the first apply.
  public func state() throws -> DeploymentState? {
    guard let data = try AtomicFile.read(statePath) else { return nil }
    do {
      return try StateStore.decoder.decode(DeploymentState.self, from: data)
    } catch {
      throw StateError.corrupt(statePath, "\(error)")
    }
  }

  func write(_ state: DeploymentState) throws {
    try AtomicFile.write(try StateStore.encoder.encode(state), to: statePath)
  }

  /// Appends a line to the watchdog log (best effort: the log never stops a rollback).
  func appendToWatchdogLog(_ line: String) {
    let fd = open(watchdogLogPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    guard fd >= 0 else { return }
    let text = "\(DeploymentState.timestamp(Date())) [\(getpid())] \(line)\n"
    _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
    close(fd)
  }
}

/// Problems with the saved state (not with the kernel or the policy).
public enum StateError: Error, CustomStringConvertible {
  case noGeneration(Int)
  case corrupt(String, String)

  public var description: String {
    switch self {
    case .noGeneration(let n): return "there is no generation \(n)"
    case .corrupt(let path, let why): return "\(path) cannot be read: \(why)"
    }
  }
}

/// The state directory's lock: `flock(2)` on `lock`, released when the holder exits however it
/// exits (a killed apply never leaves it held). Holds the holder's pid for the refusal message.
public final class StateLock {
  let fd: Int32

  /// Takes the lock, waiting up to `wait` seconds; nil when another process still holds it
  /// (`holder` then names it).
  public static func acquire(_ store: StateStore, wait: Double) throws -> (StateLock?, holder: String) {
    try store.prepare()
    let fd = open(store.lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw AtomicFile.Failure(operation: "open", path: store.lockPath, errno: errno) }
    let deadline = Date().addingTimeInterval(wait)
    while flock(fd, LOCK_EX | LOCK_NB) != 0 {
      guard errno == EWOULDBLOCK || errno == EINTR else {
        let e = errno
        close(fd)
        throw AtomicFile.Failure(operation: "lock", path: store.lockPath, errno: e)
      }
      if Date() >= deadline {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buffer, buffer.count, 0)
        close(fd)
        let pid =
          n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
        return (nil, "process \(pid)")
      }
      // Polling a lock held by another process: there is no event to wait on for flock.
      usleep(20_000)
    }
    let pid = "\(getpid())\n"
    ftruncate(fd, 0)
    _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
    return (StateLock(fd: fd), "")
  }

  init(fd: Int32) { self.fd = fd }

  deinit {
    flock(fd, LOCK_UN)
    close(fd)
  }
}
