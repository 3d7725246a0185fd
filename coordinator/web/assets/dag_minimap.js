// The job graph's overview (dag_view.js), for drawings larger than their pane: a small canvas in
// the pane's corner with every box and the rectangle in view; a click or a drag there moves the
// view to that point.
'use strict';

class DagMinimap {
  static MAX_W = 180;
  static MAX_H = 140;

  constructor(canvas, camera) {
    this.canvas = canvas;
    this.camera = camera;
    this.boxes = null;  // the boxes' pixels (ImageData), made once per layout
    this.scale = 1;
    let dragging = false;
    const moveTo = e => {
      const r = canvas.getBoundingClientRect();
      camera.centerOn((e.clientX - r.left) / this.scale, (e.clientY - r.top) / this.scale);
    };
    canvas.addEventListener('pointerdown', e => {
      e.stopPropagation();  // not the start of a pan of the pane beneath
      dragging = true;
      canvas.setPointerCapture(e.pointerId);
      moveTo(e);
    });
    canvas.addEventListener('pointermove', e => { if (dragging) moveTo(e); });
    canvas.addEventListener('pointerup', () => { dragging = false; });
    canvas.addEventListener('wheel', e => e.stopPropagation());
  }

  // `rects`: [x, y, width, height, ...] of every box, in graph coordinates (of a drawing `width`
  // by `height`); the overview shows only if `show`.
  setBoxes(rects, width, height, show) {
    this.canvas.hidden = !show;
    if (!show) return;
    this.scale = Math.min(DagMinimap.MAX_W / width, DagMinimap.MAX_H / height);
    const w = Math.max(24, Math.ceil(width * this.scale));  // wide enough to click
    const h = Math.max(8, Math.ceil(height * this.scale));
    this.canvas.width = w;
    this.canvas.height = h;
    // The boxes' pixels, set directly (thousands of fillRect calls on a canvas cost far more), at
    // least one pixel each.
    const boxes = new ImageData(w, h), px = boxes.data;
    const s = this.scale;
    for (let i = 0; i < rects.length; i += 4) {
      const x0 = Math.min(w - 1, Math.floor(rects[i] * s));
      const y0 = Math.min(h - 1, Math.floor(rects[i + 1] * s));
      const x1 = Math.min(w, Math.max(x0 + 1, Math.round((rects[i] + rects[i + 2]) * s)));
      const y1 = Math.min(h, Math.max(y0 + 1, Math.round((rects[i + 1] + rects[i + 3]) * s)));
      for (let y = y0; y < y1; ++y) {
        for (let x = x0, j = 4 * (y * w + x0); x < x1; ++x, j += 4) {
          px[j] = 140;
          px[j + 1] = 149;
          px[j + 2] = 159;
          px[j + 3] = 255;
        }
      }
    }
    this.boxes = boxes;
    this.draw();
  }

  draw() {
    if (this.canvas.hidden || !this.boxes) return;
    const ctx = this.canvas.getContext('2d');
    ctx.putImageData(this.boxes, 0, 0);
    // The view, its sides kept on the canvas when it is larger than the drawing.
    const v = this.camera.view(), s = this.scale, w = this.canvas.width, h = this.canvas.height;
    const x0 = Math.max(1, v.x * s), y0 = Math.max(1, v.y * s);
    const x1 = Math.min(w - 1, (v.x + v.width) * s), y1 = Math.min(h - 1, (v.y + v.height) * s);
    ctx.strokeStyle = '#cf222e';
    ctx.lineWidth = 1.5;
    ctx.strokeRect(x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0));
  }
}
