// The layout facts tests/test_browser_pages.py measures on every page: run with page.evaluate,
// it returns a list of problems, each a sentence naming the element.
() => {
  const problems = [];
  const shown = el => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && s.visibility !== 'hidden';
  };
  const named = el => {
    const text = (el.labels && el.labels[0] ? el.labels[0].innerText : el.innerText || el.value || '')
      .trim().replace(/\s+/g, ' ').slice(0, 40);
    return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.type ? '[' + el.type + ']' : ''} "${text}"`;
  };
  const lines = el => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
    return tops.size;
  };
  const TARGET = 44 - 0.5;  // CSS pixels; a rem-based 2.75rem lands a fraction under 44

  // Nothing scrolls sideways.
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    problems.push(`the page scrolls sideways: ${root.scrollWidth} px wide in ${root.clientWidth}`);
  }
  // Nothing is cut off inside a box of its own (a form field shows the rest as you type).
  for (const el of document.body.querySelectorAll('*')) {
    if (!shown(el) || el.matches('input, select, textarea, .heatmap-scroll, .visually-hidden, svg *')) continue;
    const overflow = getComputedStyle(el).overflowX;
    if (overflow !== 'visible' && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${named(el)} cuts off its content (${el.scrollWidth} px in ${el.clientWidth})`);
    }
  }

  // Checkboxes and radios: a box you can see, its label beside it on the same row, the
  // label's row a 44 px target, its words in the text's weight.
  for (const box of document.querySelectorAll('input[type=checkbox], input[type=radio]')) {
    if (!shown(box)) continue;
    const label = box.labels && box.labels[0];
    if (!label) { problems.push(`${named(box)} has no label`); continue; }
    const b = box.getBoundingClientRect(), l = label.getBoundingClientRect();
    if (b.width < 20 || b.height < 20) problems.push(`${named(box)}'s box is ${Math.round(b.width)}×${Math.round(b.height)} px`);
    const words = document.createRange();
    words.selectNodeContents(label);
    const first = [...words.getClientRects()].find(r => r.width > 0 && (r.right <= b.left || r.left >= b.right));
    if (!first || first.top >= b.bottom || first.bottom <= b.top || first.left < b.right) {
      problems.push(`${named(box)}'s label is not beside its box`);
    }
    const row = label.contains(box) ? l : {
      height: Math.max(l.bottom, b.bottom) - Math.min(l.top, b.top),
      width: Math.max(l.right, b.right) - Math.min(l.left, b.left),
    };
    if (row.height < TARGET || row.width < TARGET) problems.push(`${named(box)}'s row is ${Math.round(row.width)}×${Math.round(row.height)} px, under 44`);
    if (parseInt(getComputedStyle(label).fontWeight) >= 600) problems.push(`${named(box)}'s label is bold`);
  }
  // Fields: 44 px tall, text at least 16 px (smaller makes a phone zoom in on focus).
  for (const input of document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea')) {
    if (!shown(input)) continue;
    const r = input.getBoundingClientRect();
    if (r.height < TARGET || r.width < TARGET) problems.push(`${named(input)} is ${Math.round(r.width)}×${Math.round(r.height)} px, under 44`);
    if (parseFloat(getComputedStyle(input).fontSize) < 16) problems.push(`${named(input)}'s text is ${getComputedStyle(input).fontSize}`);
  }
  for (const set of document.querySelectorAll('fieldset')) {
    if (shown(set) && getComputedStyle(set).borderTopStyle === 'groove') problems.push(`fieldset "${set.querySelector('legend')?.innerText}" has the browser's border`);
  }
  // Buttons and the header's links: 44 px targets; a button's words on one line.
  for (const button of document.querySelectorAll('button, .btn, input[type=submit], header a')) {
    if (!shown(button)) continue;
    const r = button.getBoundingClientRect();
    if (r.height < TARGET || r.width < TARGET) problems.push(`${named(button)} is ${Math.round(r.width)}×${Math.round(r.height)} px, under 44`);
    if (!button.matches('header a') && lines(button) > 1) problems.push(`${named(button)}'s words wrap onto ${lines(button)} lines`);
  }
  // Nothing jammed against a button or a field: 8 px clear above and below, 4 px beside.
  const targets = [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea')].filter(shown);
  const jammed = new Set();
  for (const control of targets.filter(el => el.matches('button, .btn, input, select, textarea'))) {
    const c = control.getBoundingClientRect();
    for (const other of targets) {
      if (other === control || other.contains(control) || control.contains(other)) continue;
      const o = other.getBoundingClientRect();
      // Overlap along each axis; a negative overlap is the gap between the two.
      const across = Math.min(c.right, o.right) - Math.max(c.left, o.left);
      const down = Math.min(c.bottom, o.bottom) - Math.max(c.top, o.top);
      if ((across > 0 && down > -8) || (down > 0 && across > -4)) {
        const pair = [named(control), named(other)].sort();
        jammed.add(`${pair[0]} and ${pair[1]} are jammed together (${Math.round(-Math.min(across, down))} px apart)`);
      }
    }
  }
  problems.push(...jammed);
  // A heading keeps clear of what is above it.
  for (const heading of document.querySelectorAll('main h2, main h3')) {
    const before = heading.previousElementSibling;
    if (!before || !shown(heading) || !shown(before)) continue;
    const gap = heading.getBoundingClientRect().top - before.getBoundingClientRect().bottom;
    if (gap < 8) problems.push(`heading "${heading.innerText}" is ${Math.round(gap)} px below ${named(before)}`);
  }

  // The header: every row holds at least two of its items (no "Log out" alone on a line).
  const items = [...document.querySelectorAll('.site-header .brand, .site-header nav a, .site-header button')].filter(shown);
  const rows = [];
  for (const item of items) {
    const r = item.getBoundingClientRect(), middle = (r.top + r.bottom) / 2;
    const row = rows.find(row => Math.abs(row.middle - middle) < r.height / 2);
    if (row) row.items.push(item); else rows.push({ middle, items: [item] });
  }
  if (items.length > 1) {
    for (const row of rows) if (row.items.length < 2) problems.push(`the header leaves ${named(row.items[0])} alone on a line`);
  }
  // Today's cell of the heatmap, with its outline, is in view inside its scroller.
  const today = document.querySelector('.heatmap-scroll .is-today');
  if (today) {
    const scroller = today.closest('.heatmap-scroll');
    const s = scroller.getBoundingClientRect();
    const view = {
      left: s.left + scroller.clientLeft, top: s.top + scroller.clientTop,
      right: s.left + scroller.clientLeft + scroller.clientWidth,
      bottom: s.top + scroller.clientTop + scroller.clientHeight,
    };
    const style = getComputedStyle(today);
    const ring = style.outlineStyle === 'none'
      ? 0 : parseFloat(style.outlineWidth) + parseFloat(style.outlineOffset);
    const t = today.getBoundingClientRect();
    if (t.left - ring < view.left || t.right + ring > view.right
        || t.top - ring < view.top || t.bottom + ring > view.bottom) {
      problems.push(
        `today's heatmap cell (${Math.round(t.left)}..${Math.round(t.right)} px, ${ring} px `
        + `outline) is cut off by its scroller (${Math.round(view.left)}..${Math.round(view.right)})`);
    }
  }
  return problems;
}
