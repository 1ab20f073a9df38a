// The board page: red and black lists of the latest edition, trends, fund and overdue issues.
// Data from GET /v1/board (same origin); charts with Apache ECharts served by this service.
"use strict";
(function () {
  const CATEGORIES = [["department", "市直部门"], ["district", "区"], ["town", "镇街"]];
  const NAMES = Object.fromEntries(CATEGORIES);
  const TOKEN_KEY = "chuangwen-board-token";
  const printView = new URLSearchParams(location.search).get("print") === "1";
  const charts = {};
  let data = null;

  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const child of children) node.append(child);
    return node;
  }
  const pct = (display) => (display == null ? "—" : display + "%");
  const num = (display) => (display == null ? null : Number(display));
  const wan = (fen) => Math.round(fen / 10000) / 100; // fen -> 万元, two places, display only
  const editionLabel = (e) => `第${e.number}期` + (e.revision > 1 ? `(修订${e.revision})` : "");

  function say(text) {
    $("message").textContent = text;
    $("message").hidden = !text;
  }

  async function load() {
    const headers = {};
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token;
    const response = await fetch("/v1/board", { headers });
    if (response.status === 401 || response.status === 403) {
      const entered = window.prompt("此看板需要查看令牌（viewer token）：");
      if (entered) {
        sessionStorage.setItem(TOKEN_KEY, entered.trim());
        return load();
      }
      say("需要查看令牌才能显示看板。");
      return;
    }
    if (!response.ok) throw new Error(`GET /v1/board: ${response.status}`);
    data = await response.json();
    render();
  }

  function listTable(kind, rows) {
    const title = kind === "red" ? "红榜" : "黑榜";
    const head = el("tr", {}, ...["名次", "单位", "综合得分", "整改率"].map((t) => el("th", {}, t)));
    const body = el("tbody");
    if (rows.length === 0) {
      body.append(el("tr", {}, el("td", { colspan: "4", class: "empty" }, "（无）")));
    }
    for (const row of rows) {
      const rank = kind === "red" ? `第${row.rank}名` : `倒数第${row.bottom_rank}名`;
      body.append(el("tr", { "data-unit": row.unit_id },
        el("td", {}, rank), el("td", {}, row.name),
        el("td", {}, row.composite ?? "—"), el("td", {}, pct(row.rate))));
    }
    return el("div", { class: `list ${kind}`, "data-list": kind },
      el("h3", {}, title), el("table", {}, el("thead", {}, head), body));
  }

  function renderBoard() {
    const board = $("board");
    board.replaceChildren();
    const edition = data.edition;
    if (!edition) {
      $("edition-title").textContent = "尚未发布红黑榜";
      return;
    }
    $("edition-title").textContent =
      `${edition.year}年${editionLabel(edition)}　统计截至 ${edition.cutoff_local}`;
    for (const [key, label] of CATEGORIES) {
      const part = edition.categories[key];
      board.append(el("h2", { class: "category-title" }, `${label}（参评 ${part.ranked} 个）`));
      const red = listTable("red", part.red);
      const black = listTable("black", part.black);
      red.dataset.category = black.dataset.category = key;
      board.append(red, black);
    }
    const c = edition.campaign;
    $("campaign").textContent =
      `全市共交办问题 ${c.reported} 个，已整改 ${c.rectified} 个，整改率 ${pct(c.rate)}，逾期 ${c.overdue} 个。`;
    $("footer").textContent =
      `规则版本 ${edition.rule_version}　发布时间 ${edition.published_local}　数据为已发布榜单，综合得分与整改率四舍五入至两位小数。`;
  }

  function chart(id) {
    if (!charts[id]) charts[id] = window.echarts.init($(id), null, { renderer: "canvas" });
    return charts[id];
  }

  function axisLabels() {
    return data.trends.editions.map((e) => `${editionLabel(e)}\n${e.cutoff_local.slice(5, 10)}`);
  }
  const percentAxis = { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } };

  function renderCategoryTrend() {
    chart("chart-category-trend").setOption({
      tooltip: { trigger: "axis", valueFormatter: (v) => (v == null ? "—" : v + "%") },
      legend: { top: 0 },
      grid: { left: 48, right: 24, top: 36, bottom: 48 },
      xAxis: { type: "category", data: axisLabels() },
      yAxis: percentAxis,
      series: CATEGORIES.map(([key, label]) => ({
        name: label, type: "line", connectNulls: true, symbolSize: 7,
        data: (data.trends.categories[key] || []).map(num),
      })),
    }, true);
  }

  function renderUnitTrend() {
    const category = $("unit-category").value;
    const units = data.trends.units.filter((u) => u.category === category);
    const listed = new Set();
    const part = data.edition && data.edition.categories[category];
    if (part) for (const row of [...part.red, ...part.black]) listed.add(row.name);
    const selected = Object.fromEntries(
      units.map((u) => [u.name, listed.size === 0 || listed.has(u.name)]));
    chart("chart-unit-trend").setOption({
      tooltip: { trigger: "axis", valueFormatter: (v) => (v == null ? "—" : v + "%") },
      legend: { type: "scroll", top: 0, selected },
      grid: { left: 48, right: 24, top: 36, bottom: 48 },
      xAxis: { type: "category", data: axisLabels() },
      yAxis: percentAxis,
      series: units.map((u) => ({
        name: u.name, type: "line", connectNulls: true, data: u.rates.map(num),
      })),
    }, true);
  }

  function renderFund() {
    const fund = data.fund;
    const settled = fund.settled !== false;
    $("fund-caption").textContent = settled
      ? `激励资金（${fund.year}年度）：总额 ${wan(fund.fund_fen)} 万元，已分配 ${wan(fund.allocated_fen)} 万元，剩余 ${wan(fund.remaining_fen)} 万元`
      : `激励资金（${fund.year}年度）：尚未分配`;
    chart("chart-fund-total").setOption({
      tooltip: { trigger: "item", valueFormatter: (v) => v + " 万元" },
      legend: { top: 0 },
      color: ["#c00000", "#9e9e9e"],
      series: [{
        name: "激励资金", type: "pie", radius: ["40%", "68%"], top: 24,
        label: { formatter: "{b}\n{c} 万元（{d}%）" },
        data: settled
          ? [{ name: "已分配", value: wan(fund.allocated_fen) },
             { name: "剩余", value: wan(fund.remaining_fen) }]
          : [],
      }],
    }, true);
    const units = settled ? [...fund.units].reverse() : [];
    chart("chart-fund-units").setOption({
      tooltip: { trigger: "axis", valueFormatter: (v) => v + " 万元" },
      grid: { left: 8, right: 48, top: 8, bottom: 24, containLabel: true },
      xAxis: { type: "value", name: "万元" },
      yAxis: { type: "category", data: units.map((u) => u.name) },
      series: [{
        name: "已获激励资金", type: "bar", itemStyle: { color: "#c00000" },
        label: { show: true, position: "right" }, data: units.map((u) => wan(u.fen)),
      }],
    }, true);
  }

  function renderOverdue() {
    const overdue = data.overdue;
    const units = overdue.units.slice(0, 30);
    $("overdue-caption").textContent =
      `逾期未整改问题（按单位，共 ${overdue.total} 个，截至当前）`;
    chart("chart-overdue").setOption({
      title: units.length ? undefined : { text: "当前无逾期问题", left: "center", top: "middle" },
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 16, top: 24, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: units.map((u) => u.name), axisLabel: { rotate: 30, interval: 0 } },
      yAxis: { type: "value", name: "个", minInterval: 1 },
      series: [{
        name: "逾期问题", type: "bar", itemStyle: { color: "#333" },
        label: { show: true, position: "top" }, data: units.map((u) => u.overdue),
      }],
    }, true);
  }

  function render() {
    renderBoard();
    if (printView) return;
    if (!window.echarts) {
      say("图表组件（Apache ECharts）未安装：请在服务器上运行 make install（需要 npm）。");
      return;
    }
    renderCategoryTrend();
    renderUnitTrend();
    renderFund();
    renderOverdue();
  }

  function start() {
    if (printView) {
      document.body.classList.add("print");
      document.title = "创文工作红黑榜（打印版）";
    }
    $("print-button").addEventListener("click", () => window.print());
    $("unit-category").addEventListener("change", () => data && window.echarts && renderUnitTrend());
    window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
    const refresh = () => load().catch((err) => say("数据加载失败：" + err.message));
    refresh();
    if (!printView) setInterval(refresh, 60000);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
