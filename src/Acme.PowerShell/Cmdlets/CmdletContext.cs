using System;
using System.Collections.Concurrent;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Acme.Protocol.Diagnostics;

namespace Acme.PowerShell.Cmdlets;

public abstract partial class AcmeCmdlet
{
    /// <summary>
    /// What async work sees of the cmdlet: a log and a progress sink whose records are queued to the
    /// pipeline thread, and a way to run something there (a user's script block).
    /// </summary>
    public sealed class CmdletContext : IAcmeWarningLog, IProgress<AcmeProgress>, IDisposable
    {
        private readonly AcmeCmdlet _cmdlet;
        private readonly BlockingCollection<Action> _queue = new();
        private readonly object _gate = new();
        private readonly int _activityId;
        private bool _completed;

        internal CmdletContext(AcmeCmdlet cmdlet, bool debug)
        {
            _cmdlet = cmdlet;
            IsDebugEnabled = debug;
            _activityId = Math.Abs(cmdlet.GetType().Name.GetHashCode() % 100000) + 1;
        }

        public bool IsDebugEnabled { get; }

        /// <summary>True once Ctrl+C (or PowerShell.Stop) stopped the pipeline: script blocks then need a nested pipeline.</summary>
        public bool IsStopping => _cmdlet.StopToken.IsCancellationRequested;

        public void Verbose(string message) => Post(() => _cmdlet.WriteVerbose(message));

        public void Debug(string message)
        {
            if (IsDebugEnabled)
            {
                Post(() => _cmdlet.WriteDebug(message));
            }
        }

        public void Warning(string message) => Post(() => _cmdlet.WriteWarning(message));

        public void Report(AcmeProgress value)
        {
            string status = string.IsNullOrEmpty(value.Status) ? value.Activity : value.Status;
            if (value.SecondsRemaining >= 0 && status.IndexOf("seconds left", StringComparison.Ordinal) < 0)
            {
                // The time left in words: PowerShell would show SecondsRemaining as a bare "296s".
                status += $"; times out in {value.SecondsRemaining} s";
            }

            var record = new ProgressRecord(_activityId, value.Activity, status)
            {
                PercentComplete = value.PercentComplete < 0 ? -1 : Math.Min(100, value.PercentComplete),
                RecordType = value.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
            };
            Post(() => _cmdlet.WriteProgress(record));
        }

        /// <summary>Runs <paramref name="action"/> on the pipeline thread (script blocks must run there).</summary>
        public Task<TResult> InvokeOnPipelineThreadAsync<TResult>(Func<TResult> action)
        {
            var completion = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!Post(() =>
            {
                try
                {
                    completion.TrySetResult(action());
                }
                catch (Exception e)
                {
                    completion.TrySetException(e);
                }
            }))
            {
                completion.TrySetCanceled();
            }

            return completion.Task;
        }

        private bool Post(Action action)
        {
            lock (_gate)
            {
                if (_completed)
                {
                    return false;
                }

                _queue.Add(action);
                return true;
            }
        }

        internal void Complete()
        {
            lock (_gate)
            {
                _completed = true;
                _queue.CompleteAdding();
            }
        }

        internal void Pump(CancellationToken cancellationToken)
        {
            foreach (Action action in _queue.GetConsumingEnumerable(cancellationToken))
            {
                action();
            }
        }

        /// <summary>
        /// Runs posted work while the pipeline stops, until <paramref name="task"/> ends or the time is
        /// up. Writes to the stopped pipeline fail and are dropped; work items catch their own errors.
        /// </summary>
        internal void PumpWhileStopping(Task task, TimeSpan limit)
        {
            DateTime deadline = DateTime.UtcNow + limit;
            while (!task.IsCompleted && DateTime.UtcNow < deadline)
            {
                if (!_queue.TryTake(out Action? action, 50))
                {
                    continue;
                }

                try
                {
                    action();
                }
                catch (PipelineStoppedException)
                {
                }
            }
        }

        public void Dispose()
        {
            Complete();
            _queue.Dispose();
        }
    }
}
