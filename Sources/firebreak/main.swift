import FirebreakCLI

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

exit(CLI(console: .standard()).run(Array(CommandLine.arguments.dropFirst())))
