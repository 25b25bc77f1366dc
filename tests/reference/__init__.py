"""Reference implementations the tests compare the package's fast paths against.

Each one is the plain, slow statement of a rule (Go's tabwriter line by line,
kubectl's pod table from rows, sorting by a column with Python's sort); the
package does the same work faster, and tests check the two agree.
"""
