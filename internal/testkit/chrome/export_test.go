package chrome

// HostRulesFlag is hostRules, for the test of its checks.
var HostRulesFlag = hostRules
