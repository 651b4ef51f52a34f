
(function(){
  var t0 = performance.now();
  try {
    var I18N = JSON.parse(document.getElementById('i18n').textContent);
    var body = document.body, rows = Array.prototype.slice.call(document.querySelectorAll('tr.claim'));
    var fv = document.getElementById('f-verdict'), fa = document.getElementById('f-area'),
        fd = document.getElementById('f-doc'), fs = document.getElementById('f-search'),
        shown = document.getElementById('n-shown');
    function localize(root, lang){
      root.querySelectorAll('[data-i18n]').forEach(function(el){
        var e = I18N[el.getAttribute('data-i18n')];
        if (e) el.textContent = e[lang] || e.en;
      });
    }
    function setLang(lang){
      if (!I18N.title[lang]) lang = 'en';
      body.setAttribute('data-lang', lang);
      document.documentElement.setAttribute('lang', lang === 'zh' ? 'zh' : lang);
      localize(document, lang);
      document.querySelectorAll('[data-i18n-ph]').forEach(function(el){
        var e = I18N[el.getAttribute('data-i18n-ph')];
        if (e) el.setAttribute('placeholder', e[lang] || e.en);
      });
      document.querySelectorAll('.langs button').forEach(function(b){
        b.classList.toggle('on', b.getAttribute('data-lang') === lang);
      });
      document.title = document.title.replace(/^[^·]*·/, (I18N.title[lang] || I18N.title.en) + ' ·');
    }
    function apply(){
      var v = fv.value, a = fa.value, d = fd.value, q = fs.value.trim().toLowerCase(), n = 0;
      rows.forEach(function(r){
        var ok = (!v || r.getAttribute('data-verdict') === v) && (!a || r.getAttribute('data-area') === a) &&
                 (!d || (' ' + r.getAttribute('data-docs') + ' ').indexOf(' ' + d + ' ') >= 0) &&
                 (!q || r.textContent.toLowerCase().indexOf(q) >= 0);
        r.classList.toggle('off', !ok);
        if (ok) n++;
      });
      shown.textContent = n;
    }
    [fv, fa, fd].forEach(function(s){ s.addEventListener('change', apply); });
    fs.addEventListener('input', apply);
    // A claim's details stay raw text until the claim is first opened (see _folded).
    function unfold(r){
      var d = r.nextElementSibling, s = d && d.querySelector('script.folded');
      if (!s) return;
      var t = document.createElement('template');
      t.innerHTML = s.textContent;
      localize(t.content, body.getAttribute('data-lang') || 'en');
      s.replaceWith(t.content);
    }
    function open(r){ unfold(r); r.classList.add('open'); }
    rows.forEach(function(r){
      r.addEventListener('click', function(){
        if (r.classList.contains('open')) r.classList.remove('open'); else open(r);
      });
    });
    document.querySelectorAll('.langs button').forEach(function(b){
      b.addEventListener('click', function(){ setLang(b.getAttribute('data-lang')); });
    });
    document.querySelectorAll('[data-pick-verdict]').forEach(function(b){
      b.addEventListener('click', function(){ fv.value = b.getAttribute('data-pick-verdict'); apply();
        document.getElementById('claims').scrollIntoView(); });
    });
    document.querySelectorAll('a[data-open]').forEach(function(l){
      l.addEventListener('click', function(){
        var r = document.getElementById(l.getAttribute('data-open')); if (r) open(r); });
    });
    document.getElementById('expand').addEventListener('click', function(){
      rows.forEach(function(r){ if (!r.classList.contains('off')) open(r); }); });
    document.getElementById('collapse').addEventListener('click', function(){
      rows.forEach(function(r){ r.classList.remove('open'); }); });
    var p = {};
    location.hash.replace(/^#/, '').split('&').forEach(function(kv){
      var i = kv.indexOf('='); if (i > 0) p[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1));
    });
    function pick(sel, val){
      if (val === undefined) return;
      for (var i = 0; i < sel.options.length; i++) if (sel.options[i].value === val) { sel.value = val; return; }
    }
    pick(fv, p.verdict); pick(fa, p.area); pick(fd, p.doc);
    var opened = p.open ? document.getElementById('c-' + p.open) : null;
    setLang(p.lang || 'en');
    if (opened) open(opened);
    apply();
    if (opened) opened.scrollIntoView();  // e.g. from the Allure report's link to the claim
  } finally {
    // <main> stays out of the layout until the fragment's filters are applied (see LOADING): one layout, not two.
    document.documentElement.classList.remove('loading');
  }
  document.body.setAttribute('data-ready-ms', (performance.now()).toFixed(1));
  document.body.setAttribute('data-script-ms', (performance.now() - t0).toFixed(1));
})();
