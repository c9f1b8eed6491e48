"""SIPp scenarios (Debian's sip-tester) for the tests and the benchmarks."""
