import NetfilterModel
import PolicyLanguage

/// `firebreak fmt [--check] [--write] POLICY...`: canonical formatting.
struct FormatCommand: Command {
  static let name = "fmt"
  static let spec = Arguments.Spec(
    switches: ["--check", "--write", "-w"], positionals: 1...Int.max, positionalName: "POLICY file")
  static let help = """
    Usage: firebreak fmt [--check | --write] POLICY...

    Prints each policy in canonical form (two-space indentation, one statement per line, comments
    kept). Formatting never changes what a policy means.
      --check       print the names of files that are not canonical; exit 1 if any
      --write, -w   rewrite files in place (atomically)
    Exit status: 0 success, 1 --check found a file to reformat, 2 unreadable or malformed input.
    """

  func run(_ args: Arguments, _ cli: CLI) throws -> Int32 {
    let check = args.switches.contains("--check")
    let write = args.switches.contains("--write") || args.switches.contains("-w")
    if check && write { throw Arguments.UsageError(message: "--check and --write cannot be combined") }
    var status: Int32 = 0
    for path in args.positionals {
      guard let text = cli.source.read(path) else {
        cli.console.error("\(path):1:1: error: cannot read policy file")
        status = 2
        continue
      }
      let (formatted, diagnostics) = Formatter().format(file: path, text: text)
      cli.report(diagnostics)
      guard let formatted else {
        status = 2
        continue
      }
      if check {
        if formatted != text {
          cli.console.print(path)
          if status == 0 { status = 1 }
        }
      } else if write {
        if formatted != text { try Files.writeAtomically(formatted, to: path) }
      } else {
        cli.console.print(formatted, terminator: "")
      }
    }
    return status
  }
}
