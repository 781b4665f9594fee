#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FirebreakCLI

exit(CLI(console: .standard()).run(Array(CommandLine.arguments.dropFirst())))
