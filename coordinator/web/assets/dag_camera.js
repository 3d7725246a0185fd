// Pan and zoom of the job graph's pane (dag_view.js): the drawing lives in graph coordinates
// (0,0 to the layout's width and height) inside one <g>, which this moves and scales. Drag to pan,
// the wheel or + and - to zoom (around the pointer, or the pane's centre), "fit" to see it all
// (never zooming in above 1:1); arrow keys pan and 0 fits while the pane has the focus. A view
// left as fitted fits again when the pane's size changes (the card panel opens beside it).
'use strict';

class DagCamera {
  static MAX_ZOOM = 3;
  static STEP = 1.25;  // one click of + or -

  // `pane`: the element that clips the drawing; `layer`: the <g> holding it; `onChange(camera)`
  // after every move (the minimap follows).
  constructor(pane, layer, onChange) {
    this.pane = pane;
    this.layer = layer;
    this.onChange = onChange;
    this.width = 1;
    this.height = 1;
    this.k = 1;  // screen pixels per graph unit
    this.tx = 0;
    this.ty = 0;
    this.fitted = false;  // the view is the fitted one: none moved it since
    // The pane's size, kept as it changes: reading it from the DOM (clientWidth) would lay out a
    // large drawing again on every move.
    this.size = null;
    new ResizeObserver(([entry]) => {
      const {width, height} = entry.contentRect;
      if (this.size && width === this.size.w && height === this.size.h) return;
      this.size = {w: Math.max(1, width), h: Math.max(1, height)};
      if (this.fitted) this.fit(); else this.apply();
    }).observe(pane);
    this.listen();
  }

  setExtent(width, height) {
    this.width = Math.max(1, width);
    this.height = Math.max(1, height);
  }

  paneSize() {
    if (!this.size) this.measure();
    return this.size;
  }

  // Reads the pane's size now (after a change of its own style).
  measure() {
    this.size = {w: Math.max(1, this.pane.clientWidth), h: Math.max(1, this.pane.clientHeight)};
  }

  // The scale at which the whole drawing fits in the pane, never above 1.
  fitScale() {
    const {w, h} = this.paneSize();
    return Math.min(1, w / this.width, h / this.height);
  }

  minZoom() { return this.fitScale() / 2; }

  fit() {
    const {w, h} = this.paneSize();
    this.k = this.fitScale();
    this.tx = (w - this.width * this.k) / 2;
    this.ty = (h - this.height * this.k) / 2;
    if (this.k === 1) this.ty = Math.min(this.ty, 0);  // a small drawing sits at the top
    this.apply();
    this.fitted = true;
  }

  // Zooms by `factor` keeping the graph point under pane point (sx, sy) where it is.
  zoomBy(factor, sx, sy) {
    const {w, h} = this.paneSize();
    if (sx === undefined) [sx, sy] = [w / 2, h / 2];
    const k = Math.min(DagCamera.MAX_ZOOM, Math.max(this.minZoom(), this.k * factor));
    this.tx = sx - (sx - this.tx) * k / this.k;
    this.ty = sy - (sy - this.ty) * k / this.k;
    this.k = k;
    this.apply();
  }

  panBy(dx, dy) {
    this.tx += dx;
    this.ty += dy;
    this.apply();
  }

  // Puts graph point (x, y) at the pane's centre.
  centerOn(x, y) {
    const {w, h} = this.paneSize();
    this.tx = w / 2 - x * this.k;
    this.ty = h / 2 - y * this.k;
    this.apply();
  }

  // Brings the graph rectangle into view when it is not entirely in it (keyboard focus).
  reveal(x, y, width, height) {
    const v = this.view();
    if (x >= v.x && y >= v.y && x + width <= v.x + v.width && y + height <= v.y + v.height) return;
    if (this.k < 0.5) this.k = Math.min(1, this.paneSize().w / (4 * width));
    this.centerOn(x + width / 2, y + height / 2);
  }

  // The part of the drawing in view, in graph coordinates.
  view() {
    const {w, h} = this.paneSize();
    return {x: -this.tx / this.k, y: -this.ty / this.k, width: w / this.k, height: h / this.k};
  }

  // Keeps at least half of the drawing, or half of the pane, showing; then moves the layer.
  apply() {
    const {w, h} = this.paneSize();
    const clamp = (t, size, pane) => {
      const shown = Math.min(size, pane) / 2;
      return Math.min(pane - shown, Math.max(shown - size, t));
    };
    this.tx = clamp(this.tx, this.width * this.k, w);
    this.ty = clamp(this.ty, this.height * this.k, h);
    this.layer.setAttribute('transform', `translate(${this.tx},${this.ty}) scale(${this.k})`);
    this.fitted = false;
    if (this.onChange) this.onChange(this);
  }

  listen() {
    const pane = this.pane;
    // Drag: a press becomes a pan once it moved a few pixels, so a click on a card stays a click;
    // the click that ends a drag is not a click on what is under it.
    let drag = null, swallowClick = false;
    pane.addEventListener('click', e => {
      if (swallowClick) e.stopPropagation();
    }, {capture: true});
    pane.addEventListener('pointerdown', e => {
      if (e.button === 0) drag = {x: e.clientX, y: e.clientY, id: e.pointerId, moved: false};
    });
    pane.addEventListener('pointermove', e => {
      if (!drag || e.pointerId !== drag.id) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) < 4) return;
      if (!drag.moved) {
        drag.moved = true;
        pane.setPointerCapture(e.pointerId);
        pane.classList.add('dragging');
      }
      drag.x = e.clientX;
      drag.y = e.clientY;
      this.panBy(dx, dy);
    });
    const end = e => {
      if (!drag || e.pointerId !== drag.id) return;
      if (drag.moved) {
        pane.classList.remove('dragging');
        swallowClick = true;
        setTimeout(() => { swallowClick = false; }, 0);
      }
      drag = null;
    };
    pane.addEventListener('pointerup', end);
    pane.addEventListener('pointercancel', end);
    pane.addEventListener('wheel', e => {
      e.preventDefault();
      const r = pane.getBoundingClientRect();
      this.zoomBy(Math.pow(1.0015, -e.deltaY * (e.deltaMode === 1 ? 30 : 1)),
                  e.clientX - r.left, e.clientY - r.top);
    }, {passive: false});
    pane.addEventListener('keydown', e => {
      const step = 60;
      const keys = {
        ArrowLeft: () => this.panBy(step, 0), ArrowRight: () => this.panBy(-step, 0),
        ArrowUp: () => this.panBy(0, step), ArrowDown: () => this.panBy(0, -step),
        '+': () => this.zoomBy(DagCamera.STEP), '=': () => this.zoomBy(DagCamera.STEP),
        '-': () => this.zoomBy(1 / DagCamera.STEP), '0': () => this.fit(),
      };
      if (!keys[e.key] || e.ctrlKey || e.metaKey || e.altKey) return;
      e.preventDefault();
      keys[e.key]();
    });
  }
}
