// firebreak-apply-bench: applying generated rulesets natively against the standard tools, in a
// scratch network namespace (never the root one). Prints a table; not a test. Needs root.
//
//   firebreak-apply-bench [--sizes 1000,10000,50000] [--runs N] [--seed N]
//
// Native nft (one libnftnl batch) vs `nft -f` of the compiled script; native iptables (libiptc)
// vs `iptables-legacy-restore` of the compiled text, and vs one `iptables-legacy -A` per rule
// (1k only); rollback (restoring a snapshot of the previous ruleset) vs apply. Medians.

import Foundation
import IPTablesBackend
import IPTablesNative
import NFTablesBackend
import NFTablesNative
import NetfilterModel
import SyntheticRulesets
import Topology

var sizes = [1_000, 10_000, 50_000]
var runs = 5
var seed: UInt64 = 42
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let a = arguments.next() {
  switch a {
  case "--sizes": sizes = (arguments.next() ?? "").split(separator: ",").compactMap { Int($0) }
  case "--runs": runs = Int(arguments.next() ?? "") ?? runs
  case "--seed": seed = UInt64(arguments.next() ?? "") ?? seed
  default:
    FileHandle.standardError.write(
      Data("usage: firebreak-apply-bench [--sizes 1000,10000] [--runs N] [--seed N]\n".utf8))
    exit(2)
  }
}
guard geteuid() == 0 else {
  FileHandle.standardError.write(Data("firebreak-apply-bench needs root (it creates a network namespace)\n".utf8))
  exit(2)
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
  let start = DispatchTime.now()
  try body()
  return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

func median(_ runs: Int, _ body: () throws -> Void) rethrows -> Double {
  var times: [Double] = []
  for _ in 0..<runs { times.append(try seconds(body)) }
  return times.sorted()[times.count / 2]
}

/// Runs a tool inside the namespace (argv, never a shell string), failing loudly.
func tool(_ ns: String, _ argv: [String], input: String? = nil) throws {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
  p.arguments = ["netns", "exec", ns] + argv
  let stdin = Pipe()
  p.standardInput = stdin
  p.standardOutput = FileHandle.nullDevice
  let stderr = Pipe()
  p.standardError = stderr
  try p.run()
  if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
  try stdin.fileHandleForWriting.close()
  let message = stderr.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  guard p.terminationStatus == 0 else {
    throw NSError(
      domain: "bench", code: Int(p.terminationStatus),
      userInfo: [
        NSLocalizedDescriptionKey: "\(argv.joined(separator: " ")): \(String(decoding: message, as: UTF8.self))"
      ])
  }
}

/// Splits an iptables-save rule line into arguments (double quotes group, as the shell would).
func words(_ line: String) -> [String] {
  var out: [String] = []
  var current = ""
  var quoted = false
  var any = false
  for c in line {
    if c == "\"" {
      quoted.toggle()
      any = true
    } else if c == " " && !quoted {
      if any { out.append(current) }
      current = ""
      any = false
    } else {
      current.append(c)
      any = true
    }
  }
  if any { out.append(current) }
  return out
}

func ratio(_ a: Double, _ b: Double) -> String { String(format: "%.2f", a / b) }
func ms(_ s: Double) -> String { String(format: "%.1f ms", s * 1000) }

let ns = "fbt-applybench-\(UInt32.random(in: 0...UInt32.max))"
try NetworkNamespace.create(ns)
defer { try? NetworkNamespace.delete(ns) }

// The tools run through `ip netns exec`; what that alone costs is taken off their times, so the
// ratios compare the work, not the process start.
let start = try median(max(runs, 9)) { try tool(ns, ["/bin/true"]) }
print("firebreak-apply-bench seed \(seed), median of \(runs), namespace \(ns)")
print("tool times are net of `ip netns exec NS /bin/true` (\(ms(start)) median)")
print("")
print(
  "| rules | native nft | nft -f | ratio | nft rollback | native iptables | iptables-legacy-restore | ratio | iptables rollback | iptables -A loop |"
)
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
var generator = SyntheticRulesets(seed: seed)
for size in sizes {
  let ruleset = generator.ruleset(size: size)
  let other = generator.ruleset(size: size)
  let script = try NFTScript().compile(ruleset)
  let compiled = try IPTablesCompiler().compile(ruleset)
  let restoreText = compiled.ipv4 ?? ""

  let nativeNFT = try median(runs) { _ = try NetworkNamespace.run(in: ns) { try Connection().apply(ruleset) } }
  let nftF = try median(runs) { try tool(ns, ["/usr/sbin/nft", "-f", "-"], input: script) } - start
  // Rollback: from `other` back to a snapshot of `ruleset`.
  let nftSnapshot = try NetworkNamespace.run(in: ns) { try Connection().snapshot() }
  var nftRollbacks: [Double] = []
  for _ in 0..<runs {
    _ = try NetworkNamespace.run(in: ns) { try Connection().apply(other) }
    nftRollbacks.append(
      try seconds {
        _ = try NetworkNamespace.run(in: ns) { try Connection().restore(nftSnapshot, replacing: nftSnapshot.tableIDs) }
      })
  }
  _ = try NetworkNamespace.run(in: ns) { try Connection().apply(Ruleset(), deleting: nftSnapshot.tableIDs) }

  let nativeIPT = try median(runs) { try NetworkNamespace.run(in: ns) { try IPTablesNative().apply(compiled) } }
  let restore = try median(runs) { try tool(ns, ["/usr/sbin/iptables-legacy-restore"], input: restoreText) } - start
  let iptSnapshot = try NetworkNamespace.run(in: ns) { try IPTablesNative().snapshot() }
  let otherCompiled = try IPTablesCompiler().compile(other)
  var iptRollbacks: [Double] = []
  for _ in 0..<runs {
    try NetworkNamespace.run(in: ns) { try IPTablesNative().apply(otherCompiled) }
    iptRollbacks.append(try seconds { try NetworkNamespace.run(in: ns) { try IPTablesNative().restore(iptSnapshot) } })
  }
  var loop = "-"
  if size <= 1_000 {
    // One process per rule, as a shell script of `iptables -A` lines does it.
    try tool(
      ns, ["/usr/sbin/iptables-legacy-restore"],
      input: "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n")
    let lines = restoreText.split(separator: "\n").map(String.init)
    loop = ms(
      try seconds {
        for line in lines
        where line.hasPrefix(":") && !line.hasPrefix(":INPUT") && !line.hasPrefix(":FORWARD")
          && !line.hasPrefix(":OUTPUT")
        {
          try tool(ns, ["/usr/sbin/iptables-legacy", "-N", String(line.dropFirst().split(separator: " ")[0])])
        }
        for line in lines where line.hasPrefix("-A ") { try tool(ns, ["/usr/sbin/iptables-legacy"] + words(line)) }
      })
  }
  let nftRollback = nftRollbacks.sorted()[runs / 2]
  let iptRollback = iptRollbacks.sorted()[runs / 2]
  print(
    "| \(size) | \(ms(nativeNFT)) | \(ms(nftF)) | \(ratio(nativeNFT, nftF)) | \(ms(nftRollback)) | \(ms(nativeIPT)) | \(ms(restore)) | \(ratio(nativeIPT, restore)) | \(ms(iptRollback)) | \(loop) |"
  )
}
