import Foundation
import NetfilterModel
import PolicyLanguage
import Topology

/// `firebreak topology up|down|show [--prefix P] [--format text|dot|svg] POLICY`.
struct TopologyCommand: Command {
  static let name = "topology"
  static let spec = Arguments.Spec(
    valued: ["--prefix", "--format"], positionals: 2...2, positionalName: "up|down|show and a POLICY file")
  static let help = """
    Usage: firebreak topology up|down|show [--prefix NAME] [--format text|dot|svg] POLICY

    Builds the policy's namespaces, veth pairs, bridges, addresses, routes and sysctls over
    rtnetlink (no ip commands), as iproute2 would: namespaces are bind mounts under /run/netns,
    so 'ip netns exec NAME …' works on them.
      up      create what is missing and fix what differs; running it twice changes nothing;
              a failure removes what this run created and names the object and the kernel's error
      down    remove the declared namespaces and everything in them
      show    the declared topology and the live state side by side (missing, different, extra);
              --format dot prints Graphviz, --format svg renders it with dot(1)
      --prefix NAME   prepend NAME to every namespace (tests and verify use it to avoid collisions)
    Exit status: 0 success, 2 bad usage or input, 3 a kernel operation failed (state restored).
    """

  func run(_ args: Arguments, _ cli: CLI) throws -> Int32 {
    let action = args.positionals[0]
    guard ["up", "down", "show"].contains(action) else {
      throw Arguments.UsageError(message: "expected up, down or show, not '\(action)'")
    }
    let format = try args.choice("--format", of: ["text", "dot", "svg"], default: "text")
    if format != "text" && action != "show" { throw Arguments.UsageError(message: "--format is only for show") }
    let prefix = try TopologyCommand.validPrefix(args.values["--prefix"]) ?? ""
    guard let policy = cli.load(args.positionals[1]) else { return 2 }
    guard let topology = policy.topology else {
      cli.console.error("firebreak: error: \(args.positionals[1]) has no topology block")
      return 2
    }
    let manager = TopologyManager(topology, prefix: prefix)
    do {
      switch action {
      case "up":
        let changes = try manager.up()
        if changes.isEmpty {
          cli.console.print("topology is up; nothing to change")
        } else {
          for c in changes { cli.console.print(c.description) }
        }
      case "down":
        let removed = try manager.down()
        cli.console.print(
          removed.isEmpty ? "nothing to remove" : removed.map { "removed namespace \($0)" }.joined(separator: "\n"))
      default:
        return try show(manager, format: format, cli)
      }
    } catch let e as NetlinkError {
      cli.console.error("firebreak: error: \(e)")
      return 3
    }
    return 0
  }

  /// A prefix must stay a plain name: letters, digits, '_', '-', '.'; never a path.
  static func validPrefix(_ prefix: String?) throws -> String? {
    guard let prefix else { return nil }
    let ok =
      !prefix.contains("..") && prefix.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }
    guard ok else {
      throw Arguments.UsageError(message: "--prefix '\(prefix)' must be letters, digits, '_', '-' or '.'")
    }
    return prefix
  }

  func show(_ manager: TopologyManager, format: String, _ cli: CLI) throws -> Int32 {
    switch format {
    case "dot":
      cli.console.print(TopologyGraph.dot(manager.topology), terminator: "")
    case "svg":
      let dot = TopologyGraph.dot(manager.topology)
      guard
        let path = ["/usr/bin/dot", "/usr/local/bin/dot"].first(where: {
          FileManager.default.isExecutableFile(atPath: $0)
        })
      else {
        cli.console.error(
          "firebreak: error: --format svg needs Graphviz's dot (apt-get install graphviz); --format dot prints the source"
        )
        return 2
      }
      let process = Process()
      process.executableURL = URL(fileURLWithPath: path)
      process.arguments = ["-Tsvg"]
      let input = Pipe()
      let output = Pipe()
      process.standardInput = input
      process.standardOutput = output
      try process.run()
      input.fileHandleForWriting.write(Data(dot.utf8))
      try input.fileHandleForWriting.close()
      let svg = output.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      cli.console.print(String(decoding: svg, as: UTF8.self), terminator: "")
    default:
      let report = TopologyReport.compare(manager)
      let width = max(report.items.map(\.object.count).max() ?? 0, 10)
      var last = ""
      for item in report.items {
        if item.namespace != last {
          cli.console.print(item.namespace)
          last = item.namespace
        }
        let pad = String(repeating: " ", count: width - item.object.count)
        cli.console.print(
          "  \(item.object)\(pad)  \(item.status.rawValue)\(item.detail.isEmpty ? "" : "  (\(item.detail))")")
      }
      cli.console.print(report.isUp ? "live: up" : "live: not up (run firebreak topology up)")
    }
    return 0
  }
}
