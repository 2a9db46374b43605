using System.Globalization;
using ModelGen.Onnx;

namespace ModelGen.Optimizer.Evaluation;

/// <summary>
/// Parses <c>MaxAccuracyDrop</c>: how much worse than the reference the candidate may score.
/// <c>"0.5%"</c> means 0.5 percentage points of a [0,1] metric, i.e. an absolute drop of 0.005;
/// <c>"0.01"</c> means an absolute drop of 0.01. For the error metrics (MaxAbsError, Mse) the
/// drop is the increase of the error over the reference's own, so the budget is an absolute
/// error bound in the output's units (and "%" still just divides by 100).
/// </summary>
public static class AccuracyBudget
{
    /// <summary>The budget as an absolute drop (≥ 0).</summary>
    /// <exception cref="OnnxException">MG1010 for empty, negative, non-finite or unparsable text.</exception>
    public static double Parse(string text)
    {
        string s = (text ?? "").Trim();
        bool percent = s.EndsWith('%');
        string number = percent ? s[..^1].TrimEnd() : s;
        if (number.Length == 0
            || !double.TryParse(number, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
                CultureInfo.InvariantCulture, out double value)
            || !double.IsFinite(value) || value < 0)
        {
            throw new OnnxException(ErrorCodes.BadArguments,
                $"MaxAccuracyDrop '{text}' is not a valid budget; write a non-negative number, as percentage points (\"0.5%\") or as an absolute drop (\"0.005\")");
        }
        return percent ? value / 100 : value;
    }
}
