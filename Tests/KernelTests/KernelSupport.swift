import Foundation

/// Facts about this machine that decide whether kernel tests can run.
enum Kernel {
  static let isRoot = geteuid() == 0
  /// Why kernel tests cannot run here, or nil when they can.
  static let unavailableReason: String? = {
    if !isRoot { return "kernel tests need root (they create network namespaces); run as root, as CI does" }
    for tool in [
      "/usr/sbin/ip", "/usr/sbin/nft", "/usr/sbin/iptables-legacy-restore", "/usr/sbin/iptables-nft-restore",
      "/usr/sbin/conntrack",
    ]
    where !FileManager.default.isExecutableFile(atPath: tool) {
      return "\(tool) is missing; run scripts/setup.sh"
    }
    return nil
  }()
  /// br_netfilter (bridged IPv4 through the ip hooks) is what the seed's lab is about.
  static var bridgeNetfilter: Bool {
    guard available else { return false }
    if FileManager.default.fileExists(atPath: "/proc/sys/net/bridge/bridge-nf-call-iptables") { return true }
    FileHandle.standardError.write(
      Data(
        "SKIPPING lab tests: br_netfilter is not loaded (no /proc/sys/net/bridge); the kernel would bridge without the ip hooks\n"
          .utf8))
    return false
  }

  static var available: Bool {
    if let reason = unavailableReason {
      FileHandle.standardError.write(Data("SKIPPING kernel tests: \(reason)\n".utf8))
      return false
    }
    return true
  }
}

/// The result of running a command.
struct CommandResult {
  var status: Int32
  var stdout: String
  var stderr: String
}

/// Runs a command from an argv array (never a shell string), optionally feeding stdin.
@discardableResult
func run(_ argv: [String], input: String? = nil, environment: [String: String] = [:]) throws -> CommandResult {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: argv[0])
  process.arguments = Array(argv.dropFirst())
  if !environment.isEmpty {
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
  }
  let out = Pipe()
  let err = Pipe()
  let inp = Pipe()
  process.standardOutput = out
  process.standardError = err
  process.standardInput = inp
  try process.run()
  if let input { inp.fileHandleForWriting.write(Data(input.utf8)) }
  try inp.fileHandleForWriting.close()
  // Read both pipes before waiting so a large listing cannot block the child.
  let group = DispatchGroup()
  nonisolated(unsafe) var errData = Data()
  group.enter()
  DispatchQueue.global().async {
    errData = err.fileHandleForReading.readDataToEndOfFile()
    group.leave()
  }
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  group.wait()
  process.waitUntilExit()
  return CommandResult(
    status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
    stderr: String(decoding: errData, as: UTF8.self))
}

/// A network namespace that exists for one test: `fbt-<random>`, deleted by `remove()`
/// (call it in a `defer`), so nothing in the root namespace is ever touched.
final class ScratchNamespace {
  let name: String

  init(_ label: String = "t") throws {
    name = "fbt-\(label)-\(UInt32.random(in: 0...UInt32.max))"
    let r = try run(["/usr/sbin/ip", "netns", "add", name])
    guard r.status == 0 else { throw TestFailure("ip netns add \(name) failed: \(r.stderr)") }
  }

  /// Runs argv inside the namespace (`ip netns exec NAME …`).
  @discardableResult
  func exec(_ argv: [String], input: String? = nil) throws -> CommandResult {
    try run(["/usr/sbin/ip", "netns", "exec", name] + argv, input: input)
  }

  /// Runs argv inside the namespace and fails unless it exits 0.
  @discardableResult
  func check(_ argv: [String], input: String? = nil) throws -> String {
    let r = try exec(argv, input: input)
    guard r.status == 0 else {
      throw TestFailure("\(argv.joined(separator: " ")) failed in \(name) (\(r.status)): \(r.stderr)")
    }
    return r.stdout
  }

  func remove() {
    _ = try? run(["/usr/sbin/ip", "netns", "del", name])
  }
}

struct TestFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// Listings compared as the tools print them, minus what differs between runs: counters,
/// `# Generated`/`# Completed` lines, and whitespace layout (nft wraps long sets).
enum Listing {
  static func nft(_ text: String) -> String {
    var s = text.replacingOccurrences(
      of: #"counter packets \d+ bytes \d+"#, with: "counter", options: .regularExpression)
    s = s.replacingOccurrences(of: #"\s+"#, with: " ", options: .regularExpression)
    return s.trimmingCharacters(in: .whitespaces)
  }

  /// iptables text as table name -> lines: iptables-legacy-save prints tables in reverse order
  /// of creation, so only the contents of each table can be compared.
  static func iptables(_ text: String) -> [String: [String]] {
    var tables: [String: [String]] = [:]
    var current: String?
    for line in text.split(separator: "\n").map(String.init) where !line.hasPrefix("#") {
      if line.hasPrefix("*") {
        current = String(line.dropFirst())
        tables[current!] = []
        continue
      }
      guard let name = current else { continue }
      tables[name]!.append(line.replacingOccurrences(of: #"\[\d+:\d+\]"#, with: "[0:0]", options: .regularExpression))
    }
    return tables
  }
}

/// Repository paths, found from this file.
enum Repo {
  static let root: String = {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().path
  }()

  static func policies(_ dir: String) -> [String] {
    let path = root + "/" + dir
    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    return names.filter { $0.hasSuffix(".policy") }.sorted().map { path + "/" + $0 }
  }

  /// Every example and golden policy.
  static var allPolicies: [String] { policies("Rules") + policies("Tests/BackendTests/Golden") }
}
