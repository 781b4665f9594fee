// Deployment: generations, plan, apply, confirm watchdog, rollback, lock, drift (issue #5).
import NetfilterModel
