// @ts-check
// Hand-drawn sparklines on a <canvas>: no chart library, nothing fetched from elsewhere.

/**
 * @typedef {{ values: ReadonlyArray<number | null>, color: string, fill?: boolean }} Series
 */

/**
 * Draws the series over the canvas's width, newest at the right; `slots` points fill
 * the width so the chart scrolls as samples arrive. Missing values (null) leave gaps.
 * @param {HTMLCanvasElement} canvas
 * @param {Series[]} series
 * @param {number} slots
 */
export function drawSparkline(canvas, series, slots) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const context = canvas.getContext('2d');
  if (context === null) return;
  context.clearRect(0, 0, width, height);
  let max = 0;
  for (const { values } of series) for (const value of values) if (value !== null && value > max) max = value;
  // Headroom above the peak, and a flat zero line when nothing happened.
  const top = max > 0 ? max * 1.15 : 1;
  const pad = 2 * ratio;
  const step = (width - 2 * pad) / Math.max(1, slots - 1);
  const y = (/** @type {number} */ value) => height - pad - (value / top) * (height - 2 * pad);
  for (const { values, color, fill } of series) {
    const start = slots - values.length;
    context.lineWidth = 1.5 * ratio;
    context.strokeStyle = color;
    context.beginPath();
    let drawing = false;
    let firstX = 0;
    let lastX = 0;
    values.forEach((value, index) => {
      if (value === null) {
        drawing = false;
        return;
      }
      const x = pad + (start + index) * step;
      if (!drawing) {
        context.moveTo(x, y(value));
        if (firstX === 0) firstX = x;
      } else context.lineTo(x, y(value));
      drawing = true;
      lastX = x;
    });
    context.stroke();
    if (fill && values.length > 1 && values.every((value) => value !== null)) {
      context.lineTo(lastX, height);
      context.lineTo(firstX, height);
      context.closePath();
      context.globalAlpha = 0.15;
      context.fillStyle = color;
      context.fill();
      context.globalAlpha = 1;
    }
    const last = values[values.length - 1];
    if (last !== null && last !== undefined) {
      context.fillStyle = color;
      context.beginPath();
      context.arc(lastX, y(last), 2.5 * ratio, 0, Math.PI * 2);
      context.fill();
    }
  }
}
