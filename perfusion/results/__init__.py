"""Results: exposure and steady metrics, the results directory (writers and loader), tree outputs, exports."""
